import { ConfigError, loadConfig } from './config';

describe('configuration: upstream timeouts and trusted proxies', () => {
  it('given nothing set, when loaded, then every provider waits 10 minutes and no proxy is trusted', () => {
    const c = loadConfig({});
    expect(c.upstreamTimeoutsMs.openai).toBe(600_000);
    expect(c.upstreamTimeoutsMs.tavily).toBe(600_000);
    expect(c.trustProxy).toBe(false);
  });

  it('given a default timeout and one provider override, when loaded, then the override wins for that provider only', () => {
    const c = loadConfig({ TOLLGATE_UPSTREAM_TIMEOUT_MS: '120000', TOLLGATE_UPSTREAM_TIMEOUT_TAVILY_MS: '15000' });
    expect(c.upstreamTimeoutsMs.openai).toBe(120_000);
    expect(c.upstreamTimeoutsMs.tavily).toBe(15_000);
  });

  it.each([
    ['TOLLGATE_UPSTREAM_TIMEOUT_MS', '10s'],
    ['TOLLGATE_UPSTREAM_TIMEOUT_MS', '10'],
    ['TOLLGATE_UPSTREAM_TIMEOUT_OPENAI_MS', '99999999'],
    ['TOLLGATE_TRUST_PROXY', 'the load balancer'],
  ])('given %s=%s, when loaded, then it refuses to start and names the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it.each([
    ['true', true],
    ['false', false],
    ['1', 1],
    ['10.0.0.1, 10.0.1.0/24', '10.0.0.1,10.0.1.0/24'],
  ])('given TOLLGATE_TRUST_PROXY=%s, when loaded, then Fastify is told %p', (raw, expected) => {
    expect(loadConfig({ TOLLGATE_TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });
});

describe('configuration: projection batches', () => {
  it('given nothing set, when loaded, then the projection worker pauses 500 ms between batches under load and inline projections 50 ms', () => {
    expect(loadConfig({ TOLLGATE_ROLE: 'projector' }).projectionPauseMs).toBe(500);
    expect(loadConfig({}).projectionPauseMs).toBe(50);
    expect(loadConfig({ TOLLGATE_PROJECTION_PAUSE_MS: '0' }).projectionPauseMs).toBe(0);
  });

  it('given a pause that is not a whole number of milliseconds, when loaded, then it refuses to start and names the variable', () => {
    expect(() => loadConfig({ TOLLGATE_PROJECTION_PAUSE_MS: '0.5s' })).toThrow('TOLLGATE_PROJECTION_PAUSE_MS');
  });
});

describe('configuration: the event store URL', () => {
  it('given an esdb:// or esdb+discover:// URL, when loaded, then it is kept as given', () => {
    expect(loadConfig({ EVENTSTORE_URL: 'esdb://eventstore:2113?tls=false' }).eventStoreUrl).toBe('esdb://eventstore:2113?tls=false');
    expect(loadConfig({ EVENTSTORE_URL: 'esdb+discover://a:2113,b:2113' }).eventStoreUrl).toBe('esdb+discover://a:2113,b:2113');
  });

  it('given a kurrentdb:// URL, which the v6 client cannot parse, when loaded, then it refuses to start and says what to write', () => {
    for (const url of ['kurrentdb://eventstore:2113?tls=false', 'kurrent://eventstore:2113']) {
      expect(() => loadConfig({ EVENTSTORE_URL: url })).toThrow(ConfigError);
      expect(() => loadConfig({ EVENTSTORE_URL: url })).toThrow(/write esdb:\/\//);
    }
  });
});

describe('configuration: listening address, metrics key and the master key file', () => {
  const fs = require('fs') as typeof import('fs');
  const os = require('os') as typeof import('os');
  const path = require('path') as typeof import('path');
  const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-config-'));

  it('given nothing set, when loaded, then Tollgate listens on every interface (0.0.0.0), asks no metrics key and has no master key yet', () => {
    const c = loadConfig({ DATA_DIR: dir() });
    expect(c.host).toBe('0.0.0.0');
    expect(c.metricsKey).toBeNull();
    expect(c.masterKey).toBeNull();
    expect(c.masterKeySource).toBeNull();
  });

  it.each([['HOST', 'local host'], ['TOLLGATE_METRICS_KEY', 'short']])('given %s=%s, when loaded, then it refuses to start and names the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('given DATA_DIR/master.key, when loaded, then its key is used; a set TOLLGATE_MASTER_KEY wins over it', () => {
    const d = dir();
    fs.writeFileSync(path.join(d, 'master.key'), `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    const fromFile = loadConfig({ DATA_DIR: d });
    expect(fromFile.masterKeySource).toBe('file');
    expect(fromFile.masterKey!.toString('hex')).toBe('ab'.repeat(32));
    const fromEnv = loadConfig({ DATA_DIR: d, TOLLGATE_MASTER_KEY: 'cd'.repeat(32) });
    expect(fromEnv.masterKeySource).toBe('env');
    expect(fromEnv.masterKey!.toString('hex')).toBe('cd'.repeat(32));
  });

  it('given a master.key that holds no key, when loaded, then it refuses to start and says what the file must hold', () => {
    const d = dir();
    fs.writeFileSync(path.join(d, 'master.key'), 'not a key\n');
    expect(() => loadConfig({ DATA_DIR: d })).toThrow(/master\.key must hold the master key as 64 hex characters/);
  });
});
