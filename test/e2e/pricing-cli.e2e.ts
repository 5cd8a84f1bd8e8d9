import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { startTestApp } from '../support/test-app';
import { PricingFacade } from '../../src/pricing';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '../..');
const FIXTURE = path.join(ROOT, 'test/fixtures/litellm/model_prices_and_context_window.json');

async function pricesImport(dataDir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/cli/prices-import.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, LOG_LEVEL: 'silent', TOLLGATE_SQLITE_SYNC: 'normal' },
  });
  return stdout;
}

describe('npm run prices:import', () => {
  it('imports a LiteLLM file once (a second run changes nothing), refreshes from genai-prices, and the app prices with it', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-prices-'));
    const first = await pricesImport(dataDir, FIXTURE, '--effective-from', '2025-03-01T00:00:00Z');
    expect(first).toContain('Imported: 7');
    expect(first).toContain('+ anthropic/claude-3-5-sonnet-20240620 (new) from 2025-03-01T00:00:00.000Z');
    expect(first).toMatch(/bedrock\/anthropic\.claude-3-5-sonnet-20240620-v1:0: litellm_provider "bedrock" is not a provider Tollgate serves/);
    const second = await pricesImport(dataDir, FIXTURE, '--effective-from', '2025-03-01T00:00:00Z');
    expect(second).toContain('Imported: 0');
    const genai = await pricesImport(dataDir, '--from', 'genai-prices');
    expect(genai).toMatch(/Source: genai-prices@\d/);
    expect(genai).toContain('Imported: 0');

    const t = await startTestApp({ dataDir, now: '2025-03-10T12:00:00.000Z' });
    try {
      const q = t.app.get(PricingFacade).quote('mistral', 'mistral-large-latest', { input_tokens: 1_000_000, output_tokens: 1_000_000, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0 }, t.clock.now());
      expect(q.cost.toFixed()).toBe('8'); // the map's 2e-06 + 6e-06 per token
      expect(q.price_version).toMatch(/^mistral\/mistral-large-latest@2025-03-01T00:00:00.000Z#/);
    } finally {
      await t.close();
    }
  });

  it('explains its usage on bad arguments', async () => {
    await expect(pricesImport(fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-prices-')), '--from', 'nowhere')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage: npm run prices:import') });
  });
});
