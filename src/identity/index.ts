/** Identity's public face. (access.ts first: modules imported by identity.module read these decorators.) */
export * from './access';
export { IdentityModule } from './identity.module';
export { IdentityFacade } from './application/identity.facade';
export { presentedKey } from './api/auth.guard';
export { USER_ID } from './api/dto';
export { StartupError } from './application/provider-keys.service';
export type { TenantCreatedData, TenantUpdatedData, ProviderKeySetData, ProviderKeyRemovedData, TenantEvent } from './domain/tenant';
export type { ApiKeyIssuedData, ApiKeyRevokedData, ApiKeyEvent } from './domain/api-key';
export { TENANT_EVENT_TYPES, tenantStreamId } from './domain/tenant';
export { API_KEY_EVENT_TYPES, apiKeyStreamId } from './domain/api-key';
