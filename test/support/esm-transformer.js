/**
 * Jest transformer. NestJS 12 and some of its dependencies ship ESM only; Node 20 loads them natively
 * (require(esm)) but Jest's module runtime does not, so Jest compiles ESM files to CommonJS with swc.
 * CommonJS files of node_modules pass through untouched.
 */
const fs = require('fs');
const path = require('path');
const swcJest = require('@swc/jest');

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '../../.swcrc'), 'utf8'));
delete swcrc.$schema;
const tsTransformer = swcJest.createTransformer(swcrc);
const esTransformer = swcJest.createTransformer({ ...swcrc, jsc: { ...swcrc.jsc, parser: { syntax: 'ecmascript' } } });
const ESM = /^\s*(import\s|import\{|export\s|export\{|export\*)/m;

module.exports = {
  canInstrument: false,
  process(src, filename, options) {
    if (/\.ts$/.test(filename)) return tsTransformer.process(src, filename, options);
    if (filename.includes('node_modules') && !ESM.test(src)) return { code: src };
    return esTransformer.process(src, filename, options);
  },
  getCacheKey(src, filename, options) {
    return require('crypto').createHash('sha1').update('v1').update(src).update(filename).update(options.configString ?? '').digest('hex');
  },
};
