import { configDefaults, defineConfig } from 'vitest/config';
import LongestFirstSequencer from './tests/helpers/sequencer.js';

// Two projects, run one after the other by `npm test` (scripts/test.mjs), each with its own
// summary: `unit` (kernels, models, I/O: every test well under a minute on 2 cores) and
// `integration` (tests/integration/: the 32,760-token attention, pack-and-install, CLI spawns,
// browser tests), each of those with a timeout of its own.
const INTEGRATION = 'tests/integration/**/*.test.ts';

export default defineConfig({
  test: {
    pool: 'forks',
    // 2 cores: lavapipe already uses both; more workers only thrash.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // Deterministic kernel choices (the adapter policy's heuristics): no autotuning in tests,
    // no cache file read or written; the tuner's own tests turn it on for their device.
    env: { TESSERA_TUNE: 'off' },
    testTimeout: 120_000,
    // beforeAll hooks compile a file's kernel variants (seconds each on lavapipe)
    hookTimeout: 300_000,
    reporters: ['default', './tests/helpers/summary-reporter.ts'],
    // longest files first (measured seconds in the sequencer), so both workers end together
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/**/*.test.ts'], exclude: [...configDefaults.exclude, INTEGRATION] } },
      // integration tests take ~5–60 s each on a quiet machine (CLI spawns, golden runs); 300 s
      // leaves room for a loaded one; longer ones (32,760-token attention, packing) set their own
      { extends: true, test: { name: 'integration', include: [INTEGRATION], testTimeout: 300_000, hookTimeout: 600_000 } },
    ],
  },
});
