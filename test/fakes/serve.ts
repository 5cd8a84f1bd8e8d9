/**
 * Starts a loopback fake of every provider on fixed ports (9101 and up) and prints the TOLLGATE_UPSTREAM_* lines
 * that point Tollgate at them: try the gateway without real provider keys (`npm run fakes`).
 */
import { FakeProvider } from './fake-provider';
import { FakeKind } from './provider-answers';

const KINDS: FakeKind[] = ['openai', 'anthropic', 'gemini', 'mistral', 'tavily', 'serper', 'exa', 'firecrawl', 'stability', 'huggingface'];

async function main(): Promise<void> {
  const base = Number(process.env.FAKES_PORT ?? 9101);
  const lines: string[] = [];
  for (const [i, kind] of KINDS.entries()) {
    const fake = new FakeProvider(kind);
    fake.keepRequests = false;
    await fake.start(base + i);
    lines.push(`export TOLLGATE_UPSTREAM_${kind.toUpperCase()}=${fake.url}`);
  }
  process.stdout.write(`Fake providers listening. Point Tollgate at them with:\n${lines.join('\n')}\n`);
}

void main();
