/**
 * Jest runs the TypeScript tests through ts-jest against src/ (which embeds build/*.wasm), in three
 * tiers (projects): unit (every feature folder of tests/), browser (tests/browser/: real browsers)
 * and package (tests/package/: the packed package, bundlers, Bun/Deno, sizes, the CLI).
 * `npm test` runs all three; `npm run test:unit|test:browser|test:package` runs one.
 */
const shared = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: { warnOnly: false } }] },
};

module.exports = {
  testTimeout: 120000,
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/tests'], testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/browser/', '<rootDir>/tests/package/'] },
    { ...shared, displayName: 'browser', roots: ['<rootDir>/tests/browser'] },
    { ...shared, displayName: 'package', roots: ['<rootDir>/tests/package'] },
  ],
};
