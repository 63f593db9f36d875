import { configDefaults, defineConfig } from 'vitest/config';
import LongestFirstSequencer from './tests/helpers/sequencer.js';

// Two projects, run together by `npm test` (scripts/test.mjs: one vitest run, one pool of two
// workers, files longest first across both) and counted apart by the summary reporter: `unit`
// (kernels, models, I/O: every test well under a minute on 2 cores) and `integration`
// (tests/integration/: the 32,760-token attention, pack-and-install, CLI spawns, browser tests,
// the judge bar), each of those with a timeout of its own.
const INTEGRATION = 'tests/integration/**/*.test.ts';

// Tests check numbers, mostly on small shapes, where lavapipe's LLVM optimisation passes cost
// more compile time than they save in run time (cold, alone: gemm.test 82 → 50 s, attention.test
// 51 → 27 s, the unit project 223–270 → 183 s; four CLI-spawning integration files 113 → 96 s):
// GALLIVM_PERF=nopt turns them off (Mesa's gallivm; no effect on other drivers; a user's own
// setting wins). The files whose time is kernel run time (the judge bar, the 32,760-token
// attention, whole-clip generation and decoding) import tests/helpers/optimised-compile.ts first
// and get the optimised compile back; the browser tests run Chromium's SwiftShader, not Mesa.
// Deterministic kernel choices (the adapter policy's heuristics): no autotuning in tests, no cache
// file read or written; the tuner's own tests turn it on for their device.
const TEST_ENV = { TESSERA_TUNE: 'off', GALLIVM_PERF: process.env.GALLIVM_PERF ?? 'nopt', TESSERA_USER_GALLIVM_PERF: process.env.GALLIVM_PERF ?? '' };

export default defineConfig({
  test: {
    pool: 'forks',
    // 2 cores: lavapipe already uses both; more workers only thrash.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    env: TEST_ENV,
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
