import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { APP_CONFIG, AppConfig, loadConfig } from './config/config';
import { CLOCK, Clock } from '../libs/clock';
import { HttpExceptionFilter } from './shell/http-exception.filter';
import { createValidationPipe } from './shell/validation';
import { createLogger, PinoNestLogger, redactUrl } from './shell/logger';
import { MetricsService } from './shell/metrics.service';
import { setupApiDocs } from './shell/api-docs';
import { ensureMasterKey, MasterKeyOutcome } from './config/master-key-file';

export interface BuildOptions {
  /** Environment to read the configuration from (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** A clock to inject (tests pass a FakeClock). */
  clock?: Clock;
  /** Silence the logs (tests). */
  quiet?: boolean;
}

/** Builds the HTTP application: Fastify, the one error shape, validation, OpenAPI, request logs and metrics. */
export async function buildApp(options: BuildOptions = {}): Promise<NestFastifyApplication> {
  const config = loadConfig(options.env ?? process.env);
  const logger = createLogger(options.quiet ? 'silent' : config.logLevel);
  announceMasterKey(ensureMasterKey(config), logger);
  const adapter = new FastifyAdapter({ bodyLimit: 10 * 1024 * 1024, logger: false, trustProxy: config.trustProxy, routerOptions: { maxParamLength: 1000 } } as any);
  let app: NestFastifyApplication;
  if (options.clock || options.env) {
    // Tests and drills only (`npm start` passes neither): @nestjs/testing is a devDependency, absent from the image.
    const { Test } = await import('@nestjs/testing');
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(APP_CONFIG)
      .useValue(config)
      .overrideProvider(CLOCK)
      .useValue(options.clock ?? { now: () => new Date() })
      .compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, { rawBody: true, logger: new PinoNestLogger(logger) });
  } else {
    app = await NestFactory.create<NestFastifyApplication>(AppModule, adapter, { rawBody: true, logger: new PinoNestLogger(logger), abortOnError: false });
  }
  app.useGlobalFilters(new HttpExceptionFilter());
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();

  const fastify = app.getHttpAdapter().getInstance();
  // The proxy takes every body as bytes, whatever its content type: the gateway parses a JSON operation's body itself
  // (and answers a malformed one in the provider's shape) and forwards the bytes it read. JSON and text stay parsed
  // for the management API (rawBody keeps the bytes too).
  const toProxy = (req: any) => typeof req.url === 'string' && req.url.startsWith('/proxy/');
  const defaultJson = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit: 10 * 1024 * 1024 }, (req: any, body: Buffer, done: (e: Error | null, b?: unknown) => void) =>
    toProxy(req) ? done(null, body) : defaultJson(req, body.toString('utf8'), done),
  );
  app.useBodyParser('text/plain', { bodyLimit: 10 * 1024 * 1024 }, (req: any, body: Buffer, done: (e: Error | null, b?: unknown) => void) => done(null, toProxy(req) ? body : body.toString('utf8')));
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_req: unknown, body: Buffer, done: (e: Error | null, b?: Buffer) => void) => done(null, body));
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', (req: any, reply: any, done: () => void) => {
    const route = req.routeOptions?.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, seconds);
    if (!route.startsWith('/proxy') || reply.statusCode >= 400)
      logger.debug({ method: req.method, url: redactUrl(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
    done();
  });

  setupApiDocs(app);
  return app;
}

/** Says once, when it is created, where the master key is and that it is backed up with the data (never the key). */
function announceMasterKey(outcome: MasterKeyOutcome, logger: ReturnType<typeof createLogger>): void {
  if (outcome.kind === 'created')
    logger.warn(
      { file: outcome.file },
      `TOLLGATE_MASTER_KEY is not set: created a new master key in ${outcome.file} (mode 0600). It encrypts the stored provider keys and webhook secrets: back it up with the data (without it they cannot be read), or set TOLLGATE_MASTER_KEY instead.`,
    );
  else if (outcome.kind === 'not_created') logger.warn(`TOLLGATE_MASTER_KEY is not set and no master key was created: ${outcome.reason}. Tenants cannot store provider keys until it is.`);
}

export function appConfig(app: NestFastifyApplication): AppConfig {
  return app.get(APP_CONFIG);
}
