import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

/** Who is calling, resolved from the key presented. */
export interface Principal {
  role: 'admin' | 'tenant' | 'user';
  /** Absent for the operator (admin). */
  tenantId: string | null;
  /** Only for user keys: the one end user this key may act for. */
  userId: string | null;
  keyId: string;
}

export const IS_PUBLIC = 'tollgate:public';
export const ROLES = 'tollgate:roles';

/** The route needs no key (health, docs, the plans list). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Roles allowed on the route; without it every authenticated role may call (and must pass the user-scope checks). */
export const Roles = (...roles: Principal['role'][]) => SetMetadata(ROLES, roles);

/** The authenticated principal, set on the request by the auth guard. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest();
  return req.principal as Principal;
});
