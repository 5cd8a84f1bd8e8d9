/** Unit, contract and end-to-end specs. swc strips types (tsc checks them in `npm run typecheck`). */
const fs = require('fs');
const swc = JSON.parse(fs.readFileSync(__dirname + '/.swcrc', 'utf8'));
delete swc.$schema;
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/libs', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/bench/', '/test/drills/.*\\.long\\.'],
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', swc] },
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
};
