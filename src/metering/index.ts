/** Metering's public face. */
export * from './contracts';
