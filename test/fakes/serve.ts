/**
 * Starts a loopback fake of every provider on fixed ports (9101 and up) and prints the TOLLGATE_UPSTREAM_* lines
 * that point Tollgate at them: try the gateway without real provider keys (`npm run fakes`). With `--print` it only
 * prints the lines (for a `.env` file) and starts nothing.
 */
import { FakeProvider } from './fake-provider';
import { FakeKind } from './provider-answers';

const KINDS: FakeKind[] = ['openai', 'anthropic', 'gemini', 'mistral', 'tavily', 'serper', 'exa', 'firecrawl', 'stability', 'huggingface'];

const upstreamLine = (kind: FakeKind, url: string) => `TOLLGATE_UPSTREAM_${kind.toUpperCase()}=${url}`;

async function main(): Promise<void> {
  const base = Number(process.env.FAKES_PORT ?? 9101);
  if (process.argv.includes('--print')) {
    process.stdout.write(KINDS.map((kind, i) => upstreamLine(kind, `http://127.0.0.1:${base + i}`)).join('\n') + '\n');
    return;
  }
  const lines: string[] = [];
  for (const [i, kind] of KINDS.entries()) {
    const fake = new FakeProvider(kind);
    fake.keepRequests = false;
    await fake.start(base + i);
    lines.push(`export ${upstreamLine(kind, fake.url)}`);
  }
  process.stdout.write(`Fake providers listening. Point Tollgate at them with:\n${lines.join('\n')}\n`);
}

void main();
