// Tests by tier, each with its own npm script: *.unit.spec.ts (no I/O), *.int.spec.ts (one real
// server), *.e2e.spec.ts (the whole stack started by the test itself).
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

// The Milvus SDK's thrift requires uuid 13, which is ESM only: Node 20.19 loads it, Jest's CommonJS
// runtime cannot. Tests get the CommonJS build of uuid 11 (typeorm's), which has the same parse/stringify.
const uuidCommonJs = require.resolve('uuid', {
  paths: [require('node:path').join(__dirname, 'node_modules', 'typeorm')],
});

const base = {
  testEnvironment: 'node',
  rootDir: __dirname,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: {
    ...pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
    '^uuid$': uuidCommonJs,
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/**/*.unit.spec.ts'] },
    { ...base, displayName: 'int', testMatch: ['<rootDir>/**/*.int.spec.ts'], slowTestThreshold: 30 },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e.spec.ts'], slowTestThreshold: 120 },
  ],
};
