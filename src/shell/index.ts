/** The shell's public face for modules: configuration, metrics, projections registry. */
export { MetricsService } from './metrics.service';
export { ProjectionRegistry } from './projection-registry';
export { PROJECTION_RUNNER, LazyProjectionRunner } from './infrastructure.module';
export { APP_CONFIG, PROVIDER_IDS, DEFAULT_UPSTREAMS } from '../config/config';
export type { AppConfig, ProviderId } from '../config/config';
export { ensureMasterKey, discardCreatedMasterKey, masterKeyCreatedHere } from '../config/master-key-file';
export { redactUrl, rootLogger } from './logger';
export { tuneHeapGrowth } from './heap-tuning';
