/** Dashboard's public face: the queries (for other read sides, e.g. the web page's server). */
export { DashboardModule } from './dashboard.module';
export { DashboardQuery } from './application/dashboard.query';
export type { UsageStatus } from './application/dashboard.query';
export { TrendsQuery } from './application/trends.query';
export type { Granularity, TrendBucket } from './application/trends.query';
export { PROJECTION_METHOD } from './domain/usage-outlook';
