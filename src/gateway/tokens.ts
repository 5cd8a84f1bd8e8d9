import { countTokens as count } from 'gpt-tokenizer';

/**
 * gpt-tokenizer's encoder (o200k_base) first splits a text into pre-tokens with a regex (a run of letters, of
 * punctuation or of whitespace is one pre-token), then merges each pre-token's bytes by BPE in time quadratic in the
 * pre-token's length: 25,000 letters in a row took 0.5 s, 25,000 CJK characters 6 s. So a text is cut into pieces
 * before it is encoded: inside a run of more than RUN non-whitespace (or whitespace) characters, every RUN characters.
 * Ordinary text (words shorter than RUN) is cut nowhere inside a pre-token and counts exactly as before; a long run
 * counts as the sum of its RUN-character parts, which BPE gives at least as many tokens as the whole run in all but
 * rare cases, and never more than one token fewer per cut (a boundary can lose at most the one merge that spans it).
 * Counting is then linear in the text's length.
 */
const RUN = 64;
/** Characters encoded in one call to the encoder (pieces are joined up to this size; cuts fall only inside runs). */
const SLICE = 4096;
/** Above this many characters countTokensYielding gives the event loop back between slices. */
export const YIELD_ABOVE = 8_192;

const NO_SPECIAL = { disallowedSpecial: new Set<string>() };

/** Tokens in a text by o200k_base: the estimate used before a call, and after one that reported nothing. Linear. */
export function countTokens(text: string): number {
  if (!text) return 0;
  if (text.length <= RUN) return encodeCount(text);
  let total = 0;
  forEachSlice(text, 0, text.length, (s) => (total += encodeCount(s)));
  return total;
}

/**
 * The same count, for a prompt of any size, without holding the event loop: a text above YIELD_ABOVE characters is
 * counted a slice at a time, with a setImmediate between slices (each slice is a few ms at most).
 */
export async function countTokensYielding(text: string): Promise<number> {
  if (!text) return 0;
  if (text.length <= YIELD_ABOVE) return countTokens(text);
  let total = 0;
  let from = 0;
  while (from < text.length) {
    const to = Math.min(text.length, from + YIELD_ABOVE);
    const end = safeCut(text, to);
    forEachSlice(text, from, end, (s) => (total += encodeCount(s)));
    from = end;
    if (from < text.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return total;
}

function encodeCount(s: string): number {
  // Special-token text (`<|endoftext|>`) is counted as the plain text it is: the encoder would refuse it.
  return count(s, NO_SPECIAL);
}

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000 || c === 0x2028 || c === 0x2029 || (c >= 0x2000 && c <= 0x200a);

/** A cut never splits a surrogate pair. */
function safeCut(text: string, at: number): number {
  if (at <= 0 || at >= text.length) return at;
  const c = text.charCodeAt(at);
  return c >= 0xdc00 && c <= 0xdfff ? at + 1 : at;
}

/**
 * Calls `f` with consecutive pieces of text[from, to). A piece ends where a whitespace run begins once it holds SLICE
 * characters (the encoder's pre-tokens never span that point: a space joins the word after it, not the one before),
 * and inside any run of one class every RUN characters.
 */
function forEachSlice(text: string, from: number, to: number, f: (s: string) => void): void {
  let start = from;
  let runStart = from;
  let runSpace = from < to && isSpace(text.charCodeAt(from));
  for (let i = from + 1; i < to; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (space !== runSpace) {
      runSpace = space;
      runStart = i;
      if (space && i - start >= SLICE) {
        f(text.slice(start, i));
        start = i;
      }
    } else if (i - runStart >= RUN) {
      const cut = safeCut(text, i);
      if (cut >= to) break;
      f(text.slice(start, cut));
      start = runStart = cut;
      i = cut;
    }
  }
  if (start < to) f(text.slice(start, to));
}
