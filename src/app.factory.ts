import 'reflect-metadata';
import * as fs from 'fs';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { APP_CONFIG, AppConfig, loadConfig } from './config/config';
import { CLOCK, Clock } from '../libs/clock';
import { HttpExceptionFilter } from './shell/http-exception.filter';
import { createValidationPipe } from './shell/validation';
import { createLogger, PinoNestLogger, redactUrl } from './shell/logger';
import { MetricsService } from './shell/metrics.service';
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

  const doc = new DocumentBuilder()
    .setTitle('Tollgate')
    .setDescription('Usage metering, limits and billing for AI and search APIs. Management calls carry `Authorization: Bearer tg_...`.')
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A Tollgate key (tg_...)' })
    .build();
  const document = SwaggerModule.createDocument(app, doc);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  fastify.get('/api/redoc', (_req: unknown, reply: any) => {
    reply.type('text/html').send(REDOC_HTML);
  });
  fastify.get('/api/redoc/redoc.standalone.js', (_req: unknown, reply: any) => {
    reply.type('application/javascript').send(fs.createReadStream(require.resolve('redoc/bundles/redoc.standalone.js')));
  });
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

/** ReDoc rendered from the same document, with the standalone bundle served by Tollgate (no CDN). */
const REDOC_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>Tollgate API</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="/api/docs-json"></redoc><script src="/api/redoc/redoc.standalone.js"></script></body></html>`;
