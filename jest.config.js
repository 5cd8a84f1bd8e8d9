/** Unit, contract and end-to-end specs. swc strips types (tsc checks them in `npm test` first). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/libs', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/bench/'],
  transform: { '^.+\\.(t|j|mj|cj)s$': '<rootDir>/test/support/esm-transformer.js' },
  transformIgnorePatterns: [],
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
};
