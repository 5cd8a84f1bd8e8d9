/**
 * Jest transformer, on TypeScript's own transpiler (no native toolchain: every package installs from the npm
 * registry alone). Project .ts files are transpiled (types are checked by `tsc` in `npm test`, not here).
 * NestJS 12 and a few dependencies ship ESM only; Node 20 loads them natively (require(esm)) but Jest's module
 * runtime does not, so Jest compiles those ESM files to CommonJS too. CommonJS files of node_modules pass through.
 */
const crypto = require('crypto');
const ts = require('typescript');

const OPTIONS = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  esModuleInterop: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  useDefineForClassFields: false,
  allowJs: true,
  sourceMap: false,
  inlineSourceMap: true,
  inlineSources: true,
};
const ESM = /^\s*(import\s|import\{|export\s|export\{|export\*)/m;

module.exports = {
  canInstrument: false,
  process(src, filename) {
    const isTs = /\.tsx?$/.test(filename);
    if (!isTs && filename.includes('node_modules') && !ESM.test(src)) return { code: src };
    // import.meta has no CommonJS meaning: give it the file's URL, which is all these packages read from it. An ESM
    // file's own `const require = createRequire(...)` would clash with CommonJS's `require`, which does the same job.
    const source = isTs
      ? src
      : src.replace(/import\.meta\.url/g, "('file://' + __filename)").replace(/^(\s*)(const|let) require = /gm, '$1$2 __esmRequire = ');
    const out = ts.transpileModule(source, { compilerOptions: OPTIONS, fileName: filename });
    return { code: out.outputText };
  },
  getCacheKey(src, filename) {
    return crypto.createHash('sha1').update('ts-v2').update(ts.version).update(filename).update(src).digest('hex');
  },
};
