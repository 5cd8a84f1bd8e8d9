/** Metering's public face: the facade, its types, and the published event contracts. */
export * from './contracts';
export { MeteringModule } from './metering.module';
export { MeteringFacade } from './application/metering.facade';
export type { Admission, AdmissionRequest, Reservation, Refusal, UsageInput, PeriodUsage, ProviderPeriodUsage } from './application/admission';
export { API_USAGE_LOGS } from './projections/usage-log.projection';
export { USAGE_SUMMARIES } from './projections/usage-summary.projection';
