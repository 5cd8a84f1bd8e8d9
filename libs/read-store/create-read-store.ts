import * as path from 'path';
import { ReadStore } from './port';
import { SqliteReadStore } from './sqlite/sqlite-read-store';

export interface ReadStoreSettings {
  mongodbUrl: string | null;
  dataDir: string;
}

/** MONGODB_URL set: MongoDB; otherwise SQLite in DATA_DIR/read-models.db (beside the event log, not in it: projections never contend with appends for the write lock). */
export async function createReadStore(s: ReadStoreSettings): Promise<ReadStore> {
  if (s.mongodbUrl) {
    const { MongoReadStore } = await import('./mongodb/mongo-read-store');
    return MongoReadStore.connect(s.mongodbUrl);
  }
  return new SqliteReadStore({ file: path.join(s.dataDir, 'read-models.db') });
}
