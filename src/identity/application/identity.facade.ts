import { Injectable } from '@nestjs/common';
import { AppError } from '../../../libs/errors';
import { Principal } from '../access';
import { FailedAuthLimiter } from './failed-auth-limiter';
import { IdentityCommands } from './identity-commands';
import { KeyRegistry } from './key-registry';
import { ProviderKeysService } from './provider-keys.service';
import { TenantDirectory } from './tenant-directory';

/**
 * 404 exactly as for a user that does not exist: the answer never tells whether someone else's user exists (and names
 * nobody: callers may scope by a user id read from a stored record).
 */
const userNotFound = (_userId: string) => new AppError(404, 'not_found', 'User not found.');

/** Identity's facade for other modules. */
@Injectable()
export class IdentityFacade {
  constructor(
    private readonly registry: KeyRegistry,
    private readonly providerKeys: ProviderKeysService,
    private readonly tenants: TenantDirectory,
    private readonly commands: IdentityCommands,
    private readonly failures: FailedAuthLimiter,
  ) {}

  /**
   * Counts a failed authentication (a missing, unknown or revoked key) from a client address: the seconds to wait when
   * the address or the key's prefix failed too often (answer 429 with Retry-After), else null (answer 401). Shared
   * with the management API's guard.
   */
  failedAuthentication(address: string, presentedKey: string | null): number | null {
    return this.failures.fail(address, presentedKey);
  }

  /** The principal of a presented key (tg_...), or null for an unknown or revoked key. Answers from memory. */
  authenticate(rawKey: string): Promise<Principal | null> {
    return this.registry.authenticate(rawKey);
  }

  /** The tenant's own key for the provider, decrypted (never log it); null when it stored none. */
  getProviderKey(tenantId: string, provider: string): Promise<string | null> {
    return this.providerKeys.get(tenantId, provider);
  }

  async getTenant(tenantId: string): Promise<{ tenant_id: string; name: string; default_plan_id: string } | null> {
    const t = await this.tenants.get(tenantId);
    return t && { tenant_id: t.tenant_id, name: t.name, default_plan_id: t.default_plan_id };
  }

  /**
   * The tenant and user a principal may act for, or 404 `not_found`: a user key only for its own user; a tenant key
   * for its own tenant's users (a `tenantIdHint` naming another tenant is refused); an admin must name the tenant.
   */
  scopeUser(principal: Principal, userId: string, tenantIdHint?: string | null): { tenantId: string; userId: string } {
    if (!principal || typeof userId !== 'string' || !userId) throw userNotFound(String(userId));
    switch (principal.role) {
      case 'admin':
        if (!tenantIdHint) throw new AppError(404, 'not_found', 'User not found. An operator key must name the tenant (?tenant_id=...).');
        return { tenantId: tenantIdHint, userId };
      case 'tenant':
        if (!principal.tenantId || (tenantIdHint && tenantIdHint !== principal.tenantId)) throw userNotFound(userId);
        return { tenantId: principal.tenantId, userId };
      case 'user':
        if (!principal.tenantId || principal.userId !== userId || (tenantIdHint && tenantIdHint !== principal.tenantId)) throw userNotFound(userId);
        return { tenantId: principal.tenantId, userId };
      default: {
        const unexpected: never = principal.role;
        throw userNotFound(String(unexpected));
      }
    }
  }

  /** Whether a user key was ever issued for this user of this tenant (the user is known to the tenant). */
  userHasKey(tenantId: string, userId: string): Promise<boolean> {
    return this.commands.userHasKey(tenantId, userId);
  }
}
