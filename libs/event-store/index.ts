export * from './port';
export { SqliteEventStore } from './sqlite/sqlite-event-store';
