// Mutation testing (`npm run test:mutation`): Stryker makes small bugs in the modules that carry the
// hub's promises and runs the unit tests against each; a mutant no test notices is a hole in the suite.
// The score per module and the survivors that cannot be killed (equivalent mutants) are in docs/testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  // Each mutant runs only the tests that reach the mutated code.
  coverageAnalysis: 'perTest',
  mutate: [
    'src/sse/frame.ts',
    'src/sse/writer.ts',
    'src/topics/subject.ts',
    'src/topics/coverage.ts',
    'src/topics/pattern-index.ts',
    'src/replay/buffer.ts',
    'src/replay/history.ts',
    // planResume only: the Resumer drives a live connection and is tested on a real hub.
    'src/replay/resume.ts:34-41',
    'src/auth/claims.ts',
  ],
  // Shared 2-core machines.
  concurrency: 2,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { allowColor: false, logTests: false },
  htmlReporter: { fileName: 'test-artifacts/mutation/index.html' },
  jsonReporter: { fileName: 'test-artifacts/mutation/mutation.json' },
  tempDirName: '.cache/stryker',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85, break: 85 },
};
