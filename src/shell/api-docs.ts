import * as fs from 'fs';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/**
 * What a route's trailing wildcard stands for (Fastify's `/*`, which the document writes `{path}` without declaring
 * it), by the path's template as written in the document.
 */
const WILDCARD_NAMES: Record<string, { name: string; description: string }> = {
  '/api/admin/pricing/{provider}/{path}': { name: 'model', description: 'The model id; it may contain slashes (huggingface/openai/gpt-oss-120b) or be URL-encoded. `*` is the provider\'s fallback price.' },
};

/**
 * The OpenAPI document, Swagger UI at /api/docs, ReDoc at /api/redoc and the JSON at /api/docs-json. Every asset
 * the two pages load is served by Tollgate: no request leaves for another host (ReDoc's sidebar logo, which its
 * bundle fetches from cdn.redoc.ly, is replaced by Tollgate's own; Swagger UI's online validator badge is off).
 */
export function setupApiDocs(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Tollgate')
    .setDescription('Usage metering, limits and billing for AI and search APIs. Management calls carry `Authorization: Bearer tg_...`.')
    .setVersion('0.1.0')
    // Tollgate keys are opaque strings (stored as hashes), not JWTs.
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque tg_ key', description: 'A Tollgate key (tg_...)' })
    .build();
  const document = nameWildcards(SwaggerModule.createDocument(app, config));
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json', swaggerOptions: { validatorUrl: null } });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get('/api/redoc', (_req: unknown, reply: any) => {
    reply.type('text/html').send(REDOC_HTML);
  });
  let bundle: string | null = null;
  fastify.get('/api/redoc/redoc.standalone.js', (_req: unknown, reply: any) => {
    bundle ??= fs.readFileSync(require.resolve('redoc/bundles/redoc.standalone.js'), 'utf8').split(REDOC_CDN_LOGO).join('/dashboard/assets/favicon.svg');
    reply.type('application/javascript').header('cache-control', 'public, max-age=3600').send(bundle);
  });
  return document;
}

/** The bundle's one request to another host: the "API docs by Redocly" logo. */
export const REDOC_CDN_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';

/** Every `{name}` of a path's template is declared as a path parameter (a wildcard under the name it stands for). */
function nameWildcards(document: OpenAPIObject): OpenAPIObject {
  for (const [template, item] of Object.entries(document.paths)) {
    const wildcard = WILDCARD_NAMES[template];
    const path = wildcard ? template.replace(/\{path\}$/, `{${wildcard.name}}`) : template;
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const op of Object.values(item) as Array<{ parameters?: Array<{ name?: string; in?: string }>; responses?: unknown } | undefined>) {
      if (!op || typeof op !== 'object' || !('responses' in op)) continue;
      const declared = new Set((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name));
      for (const name of names)
        if (!declared.has(name))
          (op.parameters ??= []).push({ name, in: 'path', required: true, ...(wildcard?.name === name ? { description: wildcard.description } : {}), schema: { type: 'string' } } as never);
    }
    if (path !== template) {
      delete document.paths[template];
      document.paths[path] = item;
    }
  }
  return document;
}

/** ReDoc rendered from the same document, with the standalone bundle served by Tollgate (no CDN). */
const REDOC_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>Tollgate API</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="/dashboard/assets/favicon.svg"></head>
<body><redoc spec-url="/api/docs-json"></redoc><script src="/api/redoc/redoc.standalone.js"></script></body></html>`;
