import { Module, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ProjectionRegistry } from '../shell';
import { AdminIdentityController } from './api/admin-identity.controller';
import { AuthController } from './api/auth.controller';
import { AuthGuard } from './api/auth.guard';
import { TenantIdentityController } from './api/tenant-identity.controller';
import { FailedAuthLimiter } from './application/failed-auth-limiter';
import { IdentityCommands } from './application/identity-commands';
import { IdentityFacade } from './application/identity.facade';
import { KeyRegistry } from './application/key-registry';
import { ProviderKeysService } from './application/provider-keys.service';
import { TenantDirectory } from './application/tenant-directory';
import { ApiKeysProjection } from './projections/api-keys.projection';
import { TenantsProjection } from './projections/tenants.projection';

/** Refuses to start with stored provider keys and no (or the wrong) master key. Runs while the app is built. */
export const PROVIDER_KEYS_CHECKED = Symbol('PROVIDER_KEYS_CHECKED');

const projections: Provider[] = [TenantsProjection, ApiKeysProjection];
const application: Provider[] = [
  KeyRegistry,
  TenantDirectory,
  IdentityCommands,
  ProviderKeysService,
  FailedAuthLimiter,
  { provide: PROVIDER_KEYS_CHECKED, inject: [ProviderKeysService], useFactory: async (keys: ProviderKeysService) => (await keys.verifyAtStartup(), true) },
];
const facades: Provider[] = [IdentityFacade];

/** Identity: tenants, API keys and roles, stored provider keys, and the global auth guard. */
@Module({
  controllers: [AdminIdentityController, TenantIdentityController, AuthController],
  providers: [...projections, ...application, ...facades, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [...facades],
})
export class IdentityModule {
  constructor(registry: ProjectionRegistry, tenants: TenantsProjection, keys: ApiKeysProjection) {
    registry.register(tenants, keys);
  }
}
