import { parseReportedUsage, payloadHash } from './reported-usage';

const PROVIDERS = ['openai', 'anthropic', 'tavily', 'exa'];
const NOW = new Date('2025-03-10T12:00:00.000Z');
const good = { id: 'e1', user_id: 'u1', provider: 'openai', model: 'gpt-4o', input_tokens: 100, output_tokens: 20, occurred_at: '2025-03-10T11:00:00Z' };

describe('A reported usage event', () => {
  it('is normalised with defaults: zero counts, status 200, an ISO time, an operation from the provider', () => {
    expect(parseReportedUsage(good, PROVIDERS, NOW)).toEqual({
      ok: true,
      usage: {
        id: 'e1',
        user_id: 'u1',
        provider: 'openai',
        model: 'gpt-4o',
        operation: 'chat',
        input_tokens: 100,
        output_tokens: 20,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        units: 0,
        occurred_at: '2025-03-10T11:00:00.000Z',
        latency_ms: null,
        status: 200,
        streamed: false,
        estimated: false,
      },
    });
    const search = parseReportedUsage({ id: 's', user_id: 'u1', provider: 'metaphor', units: 2, occurred_at: '2025-03-10T11:00:00Z' }, PROVIDERS, NOW);
    expect(search).toEqual({ ok: true, usage: expect.objectContaining({ provider: 'exa', operation: 'search', units: 2, model: '' }) });
  });

  it.each([
    [{ ...good, id: '' }, 'id must be'],
    [{ ...good, provider: 'acme' }, 'unknown provider "acme"'],
    [{ ...good, input_tokens: -1 }, 'input_tokens must be a whole number >= 0'],
    [{ ...good, output_tokens: 1.5 }, 'output_tokens must be a whole number >= 0'],
    [{ ...good, cache_read_tokens: 101 }, 'input_tokens is the whole prompt'],
    [{ ...good, reasoning_tokens: 21 }, 'output_tokens must include reasoning_tokens'],
    [{ ...good, occurred_at: 'yesterday' }, 'occurred_at must be an ISO 8601 time'],
    [{ ...good, occurred_at: '2025-03-10T13:00:00Z' }, 'occurred_at is in the future'],
    [{ ...good, status: 42 }, 'status must be an HTTP status'],
  ])('is rejected with a reason: %j', (raw, reason) => {
    const r = parseReportedUsage(raw, PROVIDERS, NOW);
    expect(r.ok).toBe(false);
    expect(r).toEqual({ ok: false, id: (raw as { id: string }).id, reason: expect.stringContaining(reason) });
  });

  it('hashes its canonical payload: the same event written differently hashes the same, another payload differently', () => {
    const a = parseReportedUsage(good, PROVIDERS, NOW);
    const b = parseReportedUsage({ ...good, occurred_at: '2025-03-10T11:00:00.000Z', cache_read_tokens: 0, extra: 'ignored' }, PROVIDERS, NOW);
    const c = parseReportedUsage({ ...good, output_tokens: 21 }, PROVIDERS, NOW);
    if (!a.ok || !b.ok || !c.ok) throw new Error('expected valid events');
    expect(payloadHash(a.usage)).toBe(payloadHash(b.usage));
    expect(payloadHash(a.usage)).not.toBe(payloadHash(c.usage));
  });
});
