import { countTokens as whole } from 'gpt-tokenizer';
import { countTokens, countTokensYielding, YIELD_ABOVE } from './tokens';

const exact = (s: string) => whole(s, { disallowedSpecial: new Set() });

describe('countTokens', () => {
  it('counts with the o200k tokenizer', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('hello world')).toBe(2);
  });

  it('counts ordinary text exactly as the whole-text encoder does', () => {
    const prose = 'The quick brown fox jumps over the lazy dog, 42 times.\n  Indented\tline; {"json": [1, 2]}\n'.repeat(300);
    expect(countTokens(prose)).toBe(exact(prose));
  });

  it.each([
    ['letters', 'a'.repeat(3000)],
    ['CJK', '中文字符测试'.repeat(400)],
    ['spaces', ' '.repeat(3000) + 'x'],
    ['punctuation', '!?'.repeat(1500)],
    ['mixed case', 'aBcD'.repeat(800)],
  ])('never counts fewer tokens than the whole-text encoder for a long run of %s', (_name, text) => {
    expect(countTokens(text)).toBeGreaterThanOrEqual(exact(text));
  });

  it('counts special-token text as text (the encoder would refuse it, and a 4-characters estimate would undercount)', () => {
    const text = '<|endoftext|>' + '中'.repeat(100);
    expect(countTokens(text)).toBe(exact(text));
    expect(countTokens(text)).toBeGreaterThan(Math.ceil(text.length / 4));
  });

  it('counts a prompt above the yield threshold a slice at a time: other work runs before it resolves', async () => {
    const text = 'a'.repeat(YIELD_ABOVE * 4);
    let ranBetween = false;
    setImmediate(() => (ranBetween = true));
    const n = await countTokensYielding(text);
    expect(ranBetween).toBe(true);
    expect(n).toBe(countTokens(text));
  });
});
