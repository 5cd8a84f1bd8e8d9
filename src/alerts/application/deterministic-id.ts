import { uuidV5 } from '../../../libs/ids/name-based-uuid';

/** Tollgate's namespace for name-based event and alert ids. */
const NAMESPACE = Buffer.from('5d0c3c2e9a7b4b0f8e1f6a2b3c4d5e6f', 'hex');

/** A UUID v5 (SHA-1, name-based) of `name`: the same name always gives the same id, so appends of it are idempotent. */
export function deterministicUuid(name: string): string {
  return uuidV5(name, NAMESPACE);
}
