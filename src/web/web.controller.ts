import * as fs from 'fs';
import * as path from 'path';
import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../identity';
import { CONTENT_TYPES, listAssets, resolveAssetsDir, resolveChartJs } from './assets-location';

/**
 * The page's own policy: scripts, styles, images and API calls from Tollgate only (no CDN, nothing inline).
 * Chart.js sets canvas sizes through element.style (CSSOM), which style-src does not restrict.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors *",
].join('; ');

/**
 * Serves the billing dashboard at /dashboard: index.html for the page itself and any deeper path
 * (/dashboard/detailed...), the static assets under /dashboard/assets/, and Chart.js from node_modules under
 * /dashboard/vendor/chart.js. The page needs no key; every API call it makes carries one.
 */
@ApiExcludeController()
@Controller('dashboard')
export class WebController {
  private readonly assets: Map<string, string>;
  private readonly indexFile: string;
  private readonly chartJs: string;

  constructor() {
    const dir = resolveAssetsDir();
    this.assets = listAssets(dir);
    this.indexFile = path.join(dir, 'index.html');
    this.chartJs = resolveChartJs();
  }

  @Public()
  @Get()
  index(@Res() reply: any) {
    this.send(reply, this.indexFile, 'no-cache');
  }

  @Public()
  @Get('vendor/chart.js')
  chart(@Res() reply: any) {
    this.send(reply, this.chartJs, 'public, max-age=3600');
  }

  @Public()
  @Get('assets/*')
  asset(@Req() req: any, @Res() reply: any) {
    // Fastify (find-my-way) names the wildcard '*'.
    const name = String(req.params?.['*'] ?? '');
    const file = this.assets.get(name);
    if (!file) {
      reply.status(404).type('application/json').send({ error: { code: 'not_found', message: `No dashboard asset ${name}`, details: {} } });
      return;
    }
    this.send(reply, file, 'no-cache');
  }

  /** Any other path under /dashboard is the page (the view is chosen client side). */
  @Public()
  @Get('*')
  deep(@Res() reply: any) {
    this.send(reply, this.indexFile, 'no-cache');
  }

  private send(reply: any, file: string, cacheControl: string) {
    reply
      .header('content-type', CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream')
      .header('cache-control', cacheControl)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('content-security-policy', CSP)
      .send(fs.createReadStream(file));
  }
}
