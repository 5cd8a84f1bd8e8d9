/**
 * The parts of a composite id (a stream name, a read-model key), each written as `{length}:{part}` and joined by `/`:
 * two different lists of parts never give the same string, whatever characters the parts hold (tenant ids and
 * reported ids may contain `-`, `/` or `:`).
 */
export function joinIdParts(...parts: string[]): string {
  return parts.map((p) => `${p.length}:${p}`).join('/');
}
