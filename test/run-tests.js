#!/usr/bin/env node
/**
 * `npm test`: type-checks the project, runs every spec (unit, contract, end-to-end, browser, short drills) with Jest,
 * and ends with one line: "N passed, N failed" (", N skipped" when some were).
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'test-output');
fs.mkdirSync(out, { recursive: true });
const extra = process.argv.slice(2);
let failedExtra = 0;
let passedExtra = 0;

if (!process.env.SKIP_TYPECHECK) {
  process.stdout.write('Type-checking (tsc --noEmit)...\n');
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit'], { cwd: root, stdio: 'inherit' });
  if (tsc.status === 0) passedExtra++;
  else failedExtra++;
}

const resultsFile = path.join(out, 'jest-results.json');
try { fs.unlinkSync(resultsFile); } catch {}
const jest = spawnSync(
  process.execPath,
  [require.resolve('jest/bin/jest'), '--ci', '--forceExit', '--json', `--outputFile=${resultsFile}`, ...(process.env.CI ? ['--maxWorkers=2'] : []), ...extra],
  { cwd: root, stdio: 'inherit', env: { ...process.env } },
);
let passed = passedExtra;
let failed = failedExtra;
let skipped = 0;
try {
  const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
  skipped += r.numPendingTests + (r.numTodoTests || 0);
} catch {
  failed += 1;
  if (jest.status === 0) failed -= 1;
}
if (jest.status !== 0 && failed === 0) failed = 1;
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 ? 1 : 0);
