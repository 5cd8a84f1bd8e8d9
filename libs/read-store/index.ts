export * from './port';
export { SqliteReadStore } from './sqlite/sqlite-read-store';
export { InvalidCursorError } from './document-update';
