import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError } from '../../libs/errors';

/** class-validator at the edge: unknown fields and wrong types are refused with 422 and the list of problems. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors: ValidationError[]) => {
      const problems = flatten(errors);
      return new AppError(422, 'validation_failed', `Invalid request: ${problems.map((p) => `${p.field}: ${p.problems.join(', ')}`).join('; ')}`, { fields: problems });
    },
  });
}

function flatten(errors: ValidationError[], prefix = ''): Array<{ field: string; problems: string[] }> {
  const out: Array<{ field: string; problems: string[] }> = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) out.push({ field, problems: Object.values(e.constraints) });
    if (e.children?.length) out.push(...flatten(e.children, field));
  }
  return out;
}
