/** Identity's public face. */
export * from './access';
