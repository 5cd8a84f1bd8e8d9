/**
 * A transpiled copy of the sources for fleet instances (test/support/cluster.ts): each file of src/, libs/ and the
 * cluster-instance entry goes through TypeScript's transpileModule, exactly what `ts-node/register/transpile-only`
 * does at every start, but once per change of the sources instead of once per process. Instances then start in about
 * a second instead of several (a crash drill restarts dozens of times). The copy lives in the temp dir, keyed by a
 * hash of the sources' paths, sizes and mtimes; node_modules is found through NODE_PATH and the dashboard's assets
 * through the working directory (the repository). TOLLGATE_DRILL_TS_NODE=1 runs the sources through ts-node instead.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const DIRS = ['src', 'libs'];
const EXTRA = ['test/support/cluster-instance.ts'];

function listFiles(): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'assets') walk(r);
      } else if ((r.endsWith('.ts') && !r.endsWith('.spec.ts') && !r.endsWith('.d.ts')) || r.endsWith('.json')) out.push(r);
    }
  };
  for (const d of DIRS) walk(d);
  return [...out, ...EXTRA].sort();
}

let cached: string | null = null;

/** The directory of the transpiled copy (built if missing), e.g. `<tmp>/tollgate-drill-build-<hash>`. */
export function ensureBuilt(): string {
  if (cached && fs.existsSync(path.join(cached, '.done'))) return cached;
  const files = listFiles();
  const hash = createHash('sha1');
  for (const f of files) {
    const st = fs.statSync(path.join(ROOT, f));
    hash.update(`${f}:${st.size}:${st.mtimeMs}\n`);
  }
  const dir = path.join(os.tmpdir(), `tollgate-drill-build-${hash.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(path.join(dir, '.done'))) return (cached = dir);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ts = require('typescript') as typeof import('typescript');
  const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile).config;
  const { options } = ts.convertCompilerOptionsFromJson({ ...config.compilerOptions, sourceMap: false, inlineSourceMap: true, inlineSources: false }, ROOT);
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  for (const f of files) {
    const src = fs.readFileSync(path.join(ROOT, f), 'utf8');
    const target = path.join(tmp, f.endsWith('.ts') ? f.slice(0, -3) + '.js' : f);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (f.endsWith('.json')) fs.writeFileSync(target, src);
    else fs.writeFileSync(target, ts.transpileModule(src, { compilerOptions: options, fileName: path.join(ROOT, f) }).outputText);
  }
  fs.writeFileSync(path.join(tmp, '.done'), new Date().toISOString());
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another process built it at the same time
  }
  // Copies of older sources go after an hour (a running drill may still use a recent one).
  for (const e of fs.readdirSync(os.tmpdir()))
    if (e.startsWith('tollgate-drill-build-') && path.join(os.tmpdir(), e) !== dir)
      try {
        if (Date.now() - fs.statSync(path.join(os.tmpdir(), e)).mtimeMs > 3_600_000) fs.rmSync(path.join(os.tmpdir(), e), { recursive: true, force: true });
      } catch {
        /* gone already */
      }
  return (cached = dir);
}

/** node arguments and extra env to run an entry (`src/main.ts` or `test/support/cluster-instance.ts`). */
export function instanceCommand(entry: string): { args: string[]; env: Record<string, string> } {
  if (process.env.TOLLGATE_DRILL_TS_NODE === '1') return { args: ['-r', 'ts-node/register/transpile-only', path.join(ROOT, entry)], env: {} };
  const dir = ensureBuilt();
  return { args: ['--enable-source-maps', path.join(dir, entry.replace(/\.ts$/, '.js'))], env: { NODE_PATH: path.join(ROOT, 'node_modules') } };
}
