import { countTokens as count } from 'gpt-tokenizer';

/** Tokens in a text by o200k_base (gpt-tokenizer): the estimate used before a call, and after one that reported nothing. */
export function countTokens(text: string): number {
  if (!text) return 0;
  try {
    return count(text);
  } catch {
    // Special-token text the encoder refuses: a rough 4 characters a token.
    return Math.ceil(text.length / 4);
  }
}
