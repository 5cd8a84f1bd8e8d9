import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { forbidden, unauthorized } from '../../../libs/errors';
import { IS_PUBLIC, Principal, ROLES } from '../access';
import { FailedAuthLimiter, tooManyFailedAuthentications } from '../application/failed-auth-limiter';
import { KeyRegistry } from '../application/key-registry';

/** The key presented: `Authorization: Bearer tg_...` or `x-tollgate-key`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | null {
  const auth = headers['authorization'];
  const a = Array.isArray(auth) ? auth[0] : auth;
  if (a) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(a);
    if (m) return m[1];
  }
  const k = headers['x-tollgate-key'];
  const v = Array.isArray(k) ? k[0] : k;
  return v ? v.trim() : null;
}

/**
 * The global guard (APP_GUARD): every route but the @Public ones needs a valid key. A missing, unknown and revoked key
 * get the same 401; failures are counted per client address and key prefix, and a failure beyond the limit gets 429
 * (a key that authenticates is always served). `@Roles` limits the route.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: KeyRegistry,
    private readonly limiter: FailedAuthLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest();
    const address: string = req.ip ?? req.socket?.remoteAddress ?? 'unknown';
    const raw = presentedKey(req.headers ?? {});
    const principal: Principal | null = raw ? await this.keys.authenticate(raw) : null;
    if (!principal) {
      const wait = this.limiter.fail(address, raw);
      throw wait === null ? unauthorized() : tooManyFailedAuthentications(wait);
    }
    req.principal = principal;
    const roles = this.reflector.getAllAndOverride<Principal['role'][] | undefined>(ROLES, targets);
    if (roles && roles.length && !roles.includes(principal.role)) throw forbidden(`This route is for ${roles.join(' or ')} keys.`);
    return true;
  }
}
