import * as fs from 'fs';
import * as path from 'path';
import { parseLitellmMap } from './litellm-map.parser';

describe('LiteLLM map parser: maximum output', () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../test/fixtures/litellm/model_prices_and_context_window.json'), 'utf8'));

  it('keeps a model\'s max_output_tokens with its price (what admission reserves when a request states no maximum)', () => {
    const { candidates } = parseLitellmMap(fixture);
    expect(candidates.find((c) => c.provider === 'gemini' && c.model === 'gemini-2.5-pro')?.max_output_tokens).toBe(65_535);
    expect(candidates.find((c) => c.provider === 'openai' && c.model === 'gpt-4o')?.max_output_tokens).toBe(16_384);
    // An entry that states only the legacy max_tokens gets none: the built-in table applies.
    expect(candidates.find((c) => c.model === 'gemini-2.5-flash-preview-04-17')?.max_output_tokens).toBeUndefined();
  });
});
