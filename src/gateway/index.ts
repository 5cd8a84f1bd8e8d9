/** The gateway's public face. */
export { GatewayModule } from './gateway.module';
export { ProxyService } from './proxy.service';
export { PROVIDERS, providerFor } from './providers';
export type { ProviderAdapter, CallDescription, Usage } from './providers';
