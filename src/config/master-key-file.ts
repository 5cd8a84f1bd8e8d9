import { randomBytes } from 'crypto';
import * as fs from 'fs';
import { describe, StoreOpenError } from '../../libs/sqlite/open-database';
import { AppConfig, parseMasterKey } from './config';

/** The key files this process created (the server's configuration is read again by Nest: it cannot carry a flag). */
const createdHere = new Set<string>();

/** True when this process created the file: a key that does not fit the stored data is then not the operator's. */
export const masterKeyCreatedHere = (config: AppConfig): boolean => createdHere.has(config.masterKeyFile);

export type MasterKeyOutcome =
  /** TOLLGATE_MASTER_KEY, or a DATA_DIR/master.key an earlier start wrote: nothing done. */
  | { kind: 'present' }
  /** This start wrote a new key to DATA_DIR/master.key (mode 0600) and put it in the configuration. */
  | { kind: 'created'; file: string }
  /** No key, and none created: MONGODB_URL is set (the sealed keys live there, shared by every instance). */
  | { kind: 'not_created'; reason: string };

/**
 * The server's first start without TOLLGATE_MASTER_KEY: create a random 32-byte key in DATA_DIR/master.key, readable
 * by its owner only, and use it from then on (loadConfig reads it on every later start). Never logs the key.
 *
 * With MONGODB_URL set the provider keys live in MongoDB, shared by every instance, while DATA_DIR is each instance's
 * own: a key created there would differ per instance, so none is created (mount the same master.key, or set
 * TOLLGATE_MASTER_KEY). The file is created exclusively: two processes starting at once end with the same key.
 */
export function ensureMasterKey(config: AppConfig): MasterKeyOutcome {
  if (config.masterKey) return { kind: 'present' };
  if (config.mongodbUrl) return { kind: 'not_created', reason: 'MONGODB_URL is set: the provider keys are shared by every instance, so set TOLLGATE_MASTER_KEY (or mount the same DATA_DIR/master.key on each)' };
  const hex = randomBytes(32).toString('hex');
  let fd: number;
  try {
    fs.mkdirSync(config.dataDir, { recursive: true });
    fd = fs.openSync(config.masterKeyFile, 'wx', 0o600);
  } catch (err) {
    // The same words as the stores' for a directory they cannot use.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreOpenError(`Cannot use the data directory ${config.dataDir} (set DATA_DIR to a writable directory): ${describe(err)}`, err);
    // Another process created it between loadConfig and here: use its key.
    const theirs = parseMasterKey(fs.readFileSync(config.masterKeyFile, 'utf8').trim());
    if (!theirs) throw new Error(`${config.masterKeyFile} does not hold a master key (64 hex characters)`);
    Object.assign(config, { masterKey: theirs, masterKeySource: 'file' });
    return { kind: 'present' };
  }
  createdHere.add(config.masterKeyFile);
  try {
    fs.writeSync(fd, `${hex}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  // The master key is the one setting a first start may create: the rest of the process reads it from here.
  Object.assign(config, { masterKey: Buffer.from(hex, 'hex'), masterKeySource: 'file' });
  return { kind: 'created', file: config.masterKeyFile };
}

/** Removes a key this start created, when it turned out to be wrong for the data (stored keys sealed under another). */
export function discardCreatedMasterKey(config: AppConfig): void {
  fs.rmSync(config.masterKeyFile, { force: true });
  createdHere.delete(config.masterKeyFile);
  Object.assign(config, { masterKey: null, masterKeySource: null });
}
