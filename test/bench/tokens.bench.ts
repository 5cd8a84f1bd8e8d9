/**
 * `node -r ts-node/register/transpile-only test/bench/tokens.bench.ts`: the prompt token counter's time on the texts
 * that made gpt-tokenizer quadratic (one long run of letters, CJK characters or spaces) and on ordinary prose, before
 * (gpt-tokenizer's countTokens on the whole text) and after (src/gateway/tokens.ts). The longest slice the yielding
 * counter holds the event loop for is printed too. BENCH_TOKENS_BEFORE=0 skips the slow "before" runs above 25k.
 */
import { performance } from 'perf_hooks';
import { countTokens as whole } from 'gpt-tokenizer';
import { countTokens, countTokensYielding } from '../../src/gateway/tokens';

const SIZES = [25_000, 100_000, 300_000];
const BEFORE_UP_TO = process.env.BENCH_TOKENS_BEFORE === '0' ? 25_000 : Number(process.env.BENCH_TOKENS_BEFORE ?? 100_000);
const texts: Record<string, (n: number) => string> = {
  letters: (n) => 'a'.repeat(n),
  cjk: (n) => '中'.repeat(n),
  spaces: (n) => ' '.repeat(n),
  prose: (n) => 'The quick brown fox jumps over the lazy dog, 42 times.\n'.repeat(Math.ceil(n / 55)).slice(0, n),
};

const time = (f: () => number) => {
  const t = performance.now();
  const tokens = f();
  return { ms: performance.now() - t, tokens };
};

async function longestHold(text: string): Promise<number> {
  let longest = 0;
  let last = performance.now();
  let done = false;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (!done) setImmediate(tick);
  };
  setImmediate(tick);
  await countTokensYielding(text);
  done = true;
  return longest;
}

async function main() {
  process.stdout.write('text      chars    before (whole text)      after (linear)     longest event-loop hold (yielding)\n');
  for (const [name, make] of Object.entries(texts)) {
    for (const n of SIZES) {
      const s = make(n);
      const before = n <= BEFORE_UP_TO || name === 'prose' ? time(() => whole(s, { disallowedSpecial: new Set() })) : null;
      const after = time(() => countTokens(s));
      const hold = await longestHold(s);
      const b = before ? `${before.ms.toFixed(1).padStart(9)} ms ${String(before.tokens).padStart(7)} tok` : '        (skipped)      ';
      process.stdout.write(`${name.padEnd(8)} ${String(n).padStart(7)}  ${b}   ${after.ms.toFixed(1).padStart(7)} ms ${String(after.tokens).padStart(7)} tok   ${hold.toFixed(1)} ms\n`);
    }
  }
}

void main();
