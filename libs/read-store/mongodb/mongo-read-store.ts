import { ReadStore } from '../port';

/** Placeholder until the MongoDB adapter lands (see issue 3). */
export class MongoReadStore {
  static async connect(_url: string): Promise<ReadStore> {
    throw new Error('The MongoDB adapter is not available yet.');
  }
}
