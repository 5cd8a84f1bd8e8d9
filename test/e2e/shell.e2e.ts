import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

describe('The application shell', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('answers /health without a key', async () => {
    const r = await t.request('GET', '/health');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it('reports readiness with the stores and projection lag to the operator', async () => {
    const r = await t.request('GET', '/ready', { key: TEST_ADMIN_KEY });
    expect(r.status).toBe(200);
    expect(r.body.checks.event_store.ok).toBe(true);
    expect(r.body.checks.read_store.ok).toBe(true);
    expect(typeof r.body.projection_lag).toBe('number');
  });

  it('serves Prometheus metrics', async () => {
    const r = await t.request('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    expect(r.text).toContain('tollgate_process_cpu_user_seconds_total');
  });

  it('serves the OpenAPI document, Swagger UI and ReDoc', async () => {
    const json = await t.request('GET', '/api/docs-json');
    expect(json.status).toBe(200);
    expect(json.body.openapi).toMatch(/^3\./);
    expect((await t.request('GET', '/api/docs')).status).toBe(200);
    const redoc = await t.request('GET', '/api/redoc');
    expect(redoc.status).toBe(200);
    expect(redoc.text).toContain('/api/docs-json');
  });

  it('answers an unknown route in the one error shape', async () => {
    const r = await t.request('GET', '/api/no-such-thing');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: { code: 'not_found', message: expect.any(String), details: {} } });
  });
});
