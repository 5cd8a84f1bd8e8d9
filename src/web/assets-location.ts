import * as fs from 'fs';
import * as path from 'path';

/**
 * Where the page's static files live. The build copies nothing into dist, so the assets stay in `src/web/assets`
 * and are found from the working directory (`npm start`, `node -r ts-node/register/transpile-only src/main.ts`) or, when the
 * process runs elsewhere, relative to this file (compiled: dist/src/web; from source: src/web).
 */
export function resolveAssetsDir(cwd: string = process.cwd(), here: string = __dirname): string {
  const candidates = [
    path.join(cwd, 'src', 'web', 'assets'),
    path.join(here, 'assets'),
    path.join(here, '..', '..', '..', 'src', 'web', 'assets'),
  ];
  for (const dir of candidates) if (fs.existsSync(path.join(dir, 'index.html'))) return dir;
  throw new Error(`The dashboard's assets were not found (looked in ${candidates.join(', ')})`);
}

/** Chart.js's UMD bundle from node_modules (the package's "exports" hide dist/, so go through its main entry). */
export function resolveChartJs(): string {
  const main = require.resolve('chart.js');
  const dir = path.dirname(main);
  for (const name of ['chart.umd.min.js', 'chart.umd.js']) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  throw new Error(`Chart.js's UMD bundle was not found next to ${main}`);
}

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/**
 * The files the page may serve, read once: a name -> absolute path map built by walking the assets folder, so a
 * request can only ever reach a file that is listed (no path arithmetic on user input, no traversal).
 */
export function listAssets(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, prefix: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      const abs = path.join(d, entry.name);
      if (entry.isDirectory()) walk(abs, rel);
      else if (entry.isFile() && CONTENT_TYPES[path.extname(entry.name)]) out.set(rel, abs);
    }
  };
  walk(dir, '');
  return out;
}
