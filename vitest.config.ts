import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import LongestFirstSequencer from './tests/helpers/sequencer.js';

// Three projects, counted apart by the summary reporter: `unit` (kernels, models, I/O: every test
// well under a minute on 2 cores), `unit-isolated` (unit files that need a process of their own, below)
// and `integration` (tests/integration/: the 32,760-token attention, pack-and-install, CLI spawns,
// browser tests, the judge bar), each of those with a timeout of its own. `npm test` (scripts/test.mjs)
// runs all three in one run, a process per file, longest files first; with TESSERA_TEST_SHARED=1 it runs
// `unit` with --no-isolate first (its files share worker processes, modules and one GPU device;
// tests/helpers/shared-worker.ts puts back what each file changed), then the other two.
// By hand: `npx vitest run --project unit --no-isolate` as that shared run does.
const INTEGRATION = 'tests/integration/**/*.test.ts';

// Unit files that need a process each: those that vi.mock a module of src/ (or node:fs) that other files
// import (with shared modules the mock would miss the copy already loaded, and stay for the files after
// it), those that change module state nothing puts back (stopProgress(): no progress drawn after it),
// those that need a fresh device (pipeline-progress: every stage reports its compiles; tune-budget:
// its first read-back makes a staging buffer, none kept from other files; gpu-wait: compileKernels'
// warm-up runs; replay: its first step makes pipelines), tune-key-threads (Mesa's thread count
// as Dawn started with it, once a process) and the two fake-IndexedDB files (below).
const OWN_PROCESS = [
  'tests/gpu/gpu-wait.test.ts',
  'tests/models/replay.test.ts',
  'tests/gpu/tune-key-threads.test.ts',
  'tests/pipeline/pipeline-progress.test.ts',
  'tests/models/tune-budget.test.ts',
  'tests/cli/progress-after-interrupt-s18.test.ts',
  'tests/pipeline/decode-dry-runs.test.ts',
  'tests/models/memory-far-over.test.ts',
  'tests/cli/dtype-f16-refusal.test.ts',
  'tests/hardening/config-weights.test.ts',
  'tests/gpu/tune-rounds.test.ts',
  'tests/gpu/tune-choice.test.ts',
  'tests/gpu/tune-ran-plan.test.ts',
  'tests/gpu/tune-store-full-disk.test.ts',
  'tests/io/output-targets.test.ts',
  // each installs its own fake IndexedDB as globalThis.indexedDB; the tuner's browser store is built from the one
  // first seen until setTuneStore(null) resets it (since 4a8c939), so sharing a worker needs each file to reset it —
  // kept in a process of their own (session 20's second cold run read one file's records in the other)
  'tests/gpu/tune-indexeddb.test.ts',
  'tests/profile/api-indexeddb.test.ts',
];

// Tests check numbers, mostly on small shapes, where lavapipe's LLVM optimisation passes cost
// more compile time than they save in run time (cold, alone: gemm.test 82 → 50 s, attention.test
// 51 → 27 s, the unit project 223–270 → 183 s; four CLI-spawning integration files 113 → 96 s):
// GALLIVM_PERF=nopt turns them off (Mesa's gallivm; no effect on other drivers; a user's own
// setting wins). The files whose time is kernel run time (the judge bar, the 32,760-token
// attention, whole-clip generation and decoding) import tests/helpers/optimised-compile.ts first
// and get the optimised compile back; the browser tests run Chromium's SwiftShader, not Mesa.
// Deterministic kernel choices (the adapter policy's heuristics): no autotuning in tests, no cache
// file read or written; the tuner's own tests turn it on for their device.
const TEST_ENV = { TESSERA_TUNE: 'off', GALLIVM_PERF: process.env.GALLIVM_PERF ?? 'nopt', TESSERA_USER_GALLIVM_PERF: process.env.GALLIVM_PERF ?? '', ...mesaShaderCache() };

/**
 * Mesa keeps its shader cache in $XDG_CACHE_HOME, else ~/.cache, and where it cannot make that folder
 * (a read-only or missing HOME, as on some CI runners) every process that starts the adapter prints
 * "Failed to create …/.cache for shader cache (…)---disabling." and compiles every kernel cold: tests
 * that expect an empty stderr would fail for a reason outside the code. Then (and only then, so a
 * usable cache stays warm) the tests get MESA_SHADER_CACHE_DIR=node_modules/.cache/mesa-shader-cache,
 * the checkout's own, kept between runs. A MESA_SHADER_CACHE_DIR of the user's own wins.
 */
function mesaShaderCache(): { MESA_SHADER_CACHE_DIR?: string } {
  if (process.env.MESA_SHADER_CACHE_DIR) return {};
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  try {
    // one level, as Mesa makes it (never a missing HOME)
    mkdirSync(base);
  } catch {
    // there already, or cannot be made: the checks below tell
  }
  try {
    if (statSync(base).isDirectory()) {
      accessSync(base, constants.W_OK);
      return {};
    }
  } catch {
    // missing, or not writable
  }
  const dir = join(import.meta.dirname, 'node_modules', '.cache', 'mesa-shader-cache');
  try {
    mkdirSync(dir, { recursive: true });
    return { MESA_SHADER_CACHE_DIR: dir };
  } catch {
    return {}; // a read-only checkout too: Mesa's line stays (the CLI drops it; see bin/tessera.mjs)
  }
}

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
      { extends: true, test: { name: 'unit', include: ['tests/**/*.test.ts'], exclude: [...configDefaults.exclude, INTEGRATION, ...OWN_PROCESS], setupFiles: ['tests/helpers/shared-worker.ts'] } },
      { extends: true, test: { name: 'unit-isolated', include: OWN_PROCESS } },
      // integration tests take ~5–60 s each on a quiet machine (CLI spawns, golden runs); 300 s
      // leaves room for a loaded one; longer ones (32,760-token attention, packing) set their own
      { extends: true, test: { name: 'integration', include: [INTEGRATION], testTimeout: 300_000, hookTimeout: 600_000 } },
    ],
  },
});
