import 'reflect-metadata';
import { buildApp } from './app.factory';
import { APP_CONFIG, AppConfig } from './config/config';
import { tuneHeapGrowth } from './shell/heap-tuning';
import { rootLogger } from './shell/logger';

async function main(): Promise<void> {
  tuneHeapGrowth();
  let app;
  try {
    app = await buildApp();
  } catch (err) {
    // Configuration and store errors are meant for a person: print the message, not a stack trace.
    const e = err as Error;
    const known = ['ConfigError', 'StoreOpenError', 'EventStoreUnavailableError', 'StartupError'].includes(e?.name);
    process.stderr.write(`Tollgate cannot start: ${known ? e.message : e?.stack ?? String(err)}\n`);
    process.exit(1);
  }
  const config = app.get<AppConfig>(APP_CONFIG);
  await app.listen({ port: config.port, host: config.host });
  if (!config.adminKey)
    rootLogger().warn('TOLLGATE_ADMIN_KEY is not set: the operator API (/api/admin/...) refuses every call. Set it (16+ characters, e.g. tg_admin_$(openssl rand -hex 16)) and restart to create tenants.');
  rootLogger().info({ host: config.host, port: config.port, masterKey: config.masterKeySource === 'file' ? config.masterKeyFile : config.masterKeySource === 'env' ? 'TOLLGATE_MASTER_KEY' : 'none', dataDir: config.dataDir, eventStore: config.eventStoreUrl ? 'eventstoredb' : 'sqlite', readStore: config.mongodbUrl ? 'mongodb' : 'sqlite' }, `Tollgate listening on http://localhost:${config.port}`);
}

void main();
