/**
 * Secret canaries: unique fake secrets planted as keys and searched for everywhere they must never appear (process
 * output, log files, HTTP answers, the stores' files, the OpenAPI document).
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export interface Canary {
  /** What the secret stands for (e.g. "openai provider key"). */
  label: string;
  value: string;
  /** Substrings searched for besides the whole value (a random core, so a partly masked leak is found too). */
  needles: string[];
}

/** A canary whose value is `${prefix}${random hex}`; its random core is searched for too. */
export function makeCanary(label: string, prefix: string, hexChars = 32): Canary {
  const core = randomBytes(Math.ceil(hexChars / 2)).toString('hex').slice(0, hexChars);
  return { label, value: prefix + core, needles: [prefix + core, core] };
}

/** A canary for a secret issued by Tollgate (a key shown once): the whole value and its last 20 characters. */
export function issuedCanary(label: string, value: string): Canary {
  return { label, value, needles: [value, value.slice(-20)] };
}

export interface CanaryHit {
  canary: string;
  where: string;
  needle: string;
  context: string;
}

/** Every occurrence of any canary's needles in a text (or bytes), with a little context. */
export function scan(where: string, content: string | Buffer, canaries: readonly Canary[]): CanaryHit[] {
  const text = typeof content === 'string' ? content : content.toString('latin1');
  const hits: CanaryHit[] = [];
  for (const c of canaries)
    for (const n of c.needles) {
      let i = text.indexOf(n);
      while (i >= 0) {
        hits.push({ canary: c.label, where, needle: n, context: text.slice(Math.max(0, i - 80), i + n.length + 40).replace(/[^\x20-\x7e]/g, '.') });
        i = text.indexOf(n, i + n.length);
      }
    }
  return hits;
}

/** Scans every file under a directory (stores, their -wal and -shm files, logs), recursively. */
export function scanDir(dir: string, canaries: readonly Canary[], skip: (file: string) => boolean = () => false): { files: string[]; hits: CanaryHit[] } {
  const files: string[] = [];
  const hits: CanaryHit[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!skip(p)) {
        files.push(p);
        hits.push(...scan(p, fs.readFileSync(p), canaries));
      }
    }
  };
  walk(dir);
  return { files, hits };
}
