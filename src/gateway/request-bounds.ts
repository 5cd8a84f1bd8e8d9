/** Bounds on what a /proxy request may carry, checked before anything is counted or forwarded. */

/** A model name longer than this is refused (400). */
export const MAX_MODEL_LENGTH = 256;
/** JSON bodies may nest objects and arrays this deep at most. */
export const MAX_JSON_DEPTH = 64;
/** The largest body of an operation that states none (Fastify's own limit is the same). */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** At most this many request headers, each value at most MAX_HEADER_VALUE characters (Node bounds the whole at 16 KB). */
export const MAX_HEADERS = 64;
export const MAX_HEADER_VALUE = 8192;

/** A model name: printable ASCII without spaces, up to MAX_MODEL_LENGTH. */
export const MODEL_NAME = /^[\x21-\x7e]{1,256}$/;

/** Whether a JSON text nests deeper than `max` (strings skipped; one pass over the bytes, no allocation). */
export function jsonTooDeep(buf: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The first header that breaks the bounds (its name), or null. */
export function headerOverBounds(rawHeaders: string[] | undefined, headers: Record<string, string | string[] | undefined>): string | null {
  if (rawHeaders && rawHeaders.length > MAX_HEADERS * 2) return 'too many headers';
  for (const name in headers) {
    const v = headers[name];
    if (typeof v === 'string' ? v.length > MAX_HEADER_VALUE : Array.isArray(v) && v.join(', ').length > MAX_HEADER_VALUE) return name;
  }
  return null;
}
