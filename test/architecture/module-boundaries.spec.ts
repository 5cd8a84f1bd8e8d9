import * as fs from 'fs';
import * as path from 'path';

/**
 * Module boundaries, checked on every .ts file under src/ and libs/:
 * - a file of module `src/<m>/` imports another module only through its public face, `src/<other>/index.ts`
 *   (written `../other` or `../other/index`), or, for Nest's `imports: [...]`, its Nest module file
 *   `src/<other>/<other>.module.ts` (the same class index.ts exports; importing the file itself keeps module
 *   wiring out of import cycles through index files); it may import `libs/**`, `src/shell/index.ts`,
 *   `src/config/config.ts`;
 * - nothing under `libs/` imports from `src/`.
 * The app's own files (src/main.ts, src/app.module.ts, src/app.factory.ts), the shell (src/shell), the configuration
 * (src/config) and the command-line tools (src/cli) wire modules together and are exempt from the first rule.
 */

const root = path.resolve(__dirname, '../..');
const EXEMPT_FOLDERS = new Set(['shell', 'config', 'cli']);
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

export interface Violation {
  file: string;
  specifier: string;
  rule: string;
}

/** The violations in a set of files (paths relative to the repository root, '/'-separated). */
export function findViolations(files: Map<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, source] of files) {
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(IMPORT)) {
      const specifier = m[1];
      if (!specifier.startsWith('.')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.(ts|js)$/, '');
      const rule = check(file, target);
      if (rule) out.push({ file, specifier, rule });
    }
  }
  return out;
}

function check(file: string, target: string): string | null {
  const from = file.split('/');
  const to = target.split('/');
  if (from[0] === 'libs') return to[0] === 'src' ? 'libs/ must not import from src/' : null;
  if (from[0] !== 'src' || to[0] !== 'src') return null;
  const own = from.length > 2 ? from[1] : null; // null: an app file at src/ root
  if (!own || EXEMPT_FOLDERS.has(own)) return null;
  const other = to.length > 1 ? to[1] : null;
  if (other === null || other === own) return null;
  const rest = to.slice(2).join('/');
  if (other === 'shell') return rest === '' || rest === 'index' ? null : 'the shell only through src/shell/index.ts';
  if (other === 'config') return rest === 'config' ? null : 'configuration only through src/config/config.ts';
  if (to.length === 2 && /\.|^(main|app\.)/.test(other)) return 'a module must not import the app files';
  return rest === '' || rest === 'index' || rest === `${other}.module` ? null : `another module only through src/${other}/index.ts`;
}

function sourceFiles(dir: string, acc: Map<string, string>): Map<string, string> {
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'assets') sourceFiles(rel, acc);
    } else if (entry.name.endsWith('.ts')) acc.set(rel, fs.readFileSync(path.join(root, rel), 'utf8'));
  }
  return acc;
}

describe('module boundaries', () => {
  it('every import between modules goes through the public face, and libs/ imports nothing from src/', () => {
    const files = sourceFiles('libs', sourceFiles('src', new Map()));
    expect(files.size).toBeGreaterThan(20);
    const report = findViolations(files).map((v) => `${v.file}: import '${v.specifier}' (${v.rule})`);
    expect(report).toEqual([]);
  });

  describe('the check itself', () => {
    const files = new Map<string, string>([
      ['src/alerts/application/a.ts', `import { X } from '../../metering/domain/usage';\nimport { Y } from '../../metering';\nimport { Z } from '../../metering/index';\nimport { W } from '../domain/own';\nimport { MeteringModule } from '../../metering/metering.module';`],
      ['src/alerts/api/b.ts', `export { P } from '../../plans/application/plans.facade';\nconst q = await import('../../shell/logger');\nimport type { C } from '../../config/config';\nimport { S } from '../../shell';`],
      ['src/alerts/api/c.ts', `// import { Hidden } from '../../pricing/domain/price';\n/* import { Also } from '../../pricing/domain/x'; */\nimport { app } from '../../app.module';`],
      ['libs/money/m.ts', `import { Bad } from '../../src/pricing';\nimport { Ok } from '../clock';`],
      ['src/shell/s.ts', `import { Fine } from '../metering/infrastructure/thing';`],
      ['src/main.ts', `import { AppModule } from './app.module';\nimport { Deep } from './identity/access';`],
    ]);

    it('reports each offending import, with the rule it breaks', () => {
      expect(findViolations(files)).toEqual([
        { file: 'src/alerts/application/a.ts', specifier: '../../metering/domain/usage', rule: 'another module only through src/metering/index.ts' },
        { file: 'src/alerts/api/b.ts', specifier: '../../plans/application/plans.facade', rule: 'another module only through src/plans/index.ts' },
        { file: 'src/alerts/api/b.ts', specifier: '../../shell/logger', rule: 'the shell only through src/shell/index.ts' },
        { file: 'src/alerts/api/c.ts', specifier: '../../app.module', rule: 'a module must not import the app files' },
        { file: 'libs/money/m.ts', specifier: '../../src/pricing', rule: 'libs/ must not import from src/' },
      ]);
    });
  });
});
