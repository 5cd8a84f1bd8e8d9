import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { AppError } from '../../libs/errors';
import { WrongExpectedVersionError } from '../../libs/event-store/port';
import { InvalidCursorError } from '../../libs/read-store';

/** Renders every error of the management API in the one shape: {"error": {"code", "message", "details"}}. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse();
    const err = toAppError(exception);
    if (err.status >= 500) this.logger.error(`Unhandled error: ${(exception as Error)?.stack ?? String(exception)}`);
    const raw = reply.raw ?? reply;
    if (raw.headersSent) {
      raw.destroy?.();
      return;
    }
    for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
    reply.status(err.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(err.toJSON()));
  }
}

export function toAppError(exception: unknown): AppError {
  if (exception instanceof AppError) return exception;
  if (exception instanceof WrongExpectedVersionError)
    return new AppError(409, 'conflict', 'The resource was changed by another request; retry.', { stream: exception.streamId });
  if (exception instanceof InvalidCursorError) return new AppError(400, 'invalid_cursor', exception.message);
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse() as { message?: string | string[] } | string;
    const message = typeof body === 'string' ? body : Array.isArray(body.message) ? body.message.join('; ') : body.message ?? exception.message;
    const code = status === 404 ? 'not_found' : status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 413 ? 'payload_too_large' : status === 429 ? 'rate_limited' : status === 405 ? 'method_not_allowed' : status >= 500 ? 'internal_error' : 'bad_request';
    return new AppError(mapStatus(status), code, message || 'Request failed.');
  }
  const e = exception as { statusCode?: number; code?: string; message?: string };
  // Fastify's own errors (malformed JSON, unsupported media type, body too large) carry statusCode and code.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 413) return new AppError(413, 'payload_too_large', 'The request body is too large.');
    if (e.statusCode === 415) return new AppError(400, 'unsupported_media_type', e.message ?? 'Unsupported content type.');
    return new AppError(400, 'bad_request', e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || /JSON/.test(e.message ?? '') ? 'The request body is not valid JSON.' : e.message ?? 'Bad request.');
  }
  return new AppError(500, 'internal_error', 'An internal error occurred.');
}

function mapStatus(s: number): AppError['status'] {
  const allowed = [400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503];
  if (allowed.includes(s)) return s as AppError['status'];
  if (s === 405) return 404;
  return s >= 500 ? 500 : 400;
}
