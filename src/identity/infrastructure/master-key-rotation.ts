import { ReadStore } from '../../../libs/read-store/port';
import { PROVIDER_KEYS } from '../application/provider-keys.service';
import { decryptProviderKey, encryptProviderKey } from './provider-key-cipher';

type SealedDoc = { _id: string; tenant_id: string; sealed: string } & Record<string, unknown>;

export interface RotationCount {
  /** Re-sealed under the new key by this run. */
  rotated: number;
  /** Already sealed under the new key (a run that stopped half-way, run again). */
  already: number;
}

export class RotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationError';
  }
}

/**
 * Re-seals every stored provider key under `next`. Every key is opened first, with `current` or (when a run stopped
 * half-way) with `next`; one that neither opens stops the rotation before anything is written. Then each document is
 * written with its new seal. Running it again with the same `next` finishes an interrupted run.
 */
export async function rotateProviderKeys(reads: ReadStore, current: Buffer, next: Buffer): Promise<RotationCount> {
  const docs = reads.collection<SealedDoc>(PROVIDER_KEYS);
  const all: SealedDoc[] = [];
  let cursor: string | undefined;
  do {
    const page = await docs.find({}, { limit: 500, cursor });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const plan: Array<{ doc: SealedDoc; plain: string | null }> = [];
  const unreadable: string[] = [];
  for (const doc of all) {
    const plain = open(current, doc);
    if (plain !== null) plan.push({ doc, plain });
    else if (open(next, doc) !== null) plan.push({ doc, plain: null });
    else unreadable.push(doc._id);
  }
  if (unreadable.length)
    throw new RotationError(`the master key in use does not decrypt ${unreadable.length} stored provider key(s) (${unreadable.slice(0, 5).join(', ')}${unreadable.length > 5 ? ', ...' : ''}): nothing was changed`);
  let rotated = 0;
  for (const { doc, plain } of plan) {
    if (plain === null) continue;
    await docs.put({ ...doc, sealed: encryptProviderKey(next, doc.tenant_id, plain) });
    rotated++;
  }
  return { rotated, already: plan.length - rotated };
}

function open(key: Buffer, doc: SealedDoc): string | null {
  try {
    return decryptProviderKey(key, doc.tenant_id, doc.sealed);
  } catch {
    return null;
  }
}
