// Test files in order of how long they take, longest first, so that the two workers finish
// together instead of one starting a long file last while the other has nothing left
// (longest-processing-time-first). Vitest's own order needs a results cache that a fresh clone
// does not have, and then runs larger files first: attention-long.test.ts (1.9 KB, ~80–100 s)
// came last. The seconds below are per-file times of cold runs of `npm test` on the 2-core
// machine (the summary's "slowest files"), rounded; stale figures only change the order. Files
// not listed follow, in vitest's order.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SECONDS: Record<string, number> = {
  // unit
  // 85 variants instead of 132: alone, cold, load ~3: 121.8 s -> 46.9 s
  'tests/kernels/gemm.test.ts': 60,
  'tests/sampler/resident.test.ts': 50,
  'tests/hardening/limits.test.ts': 47,
  'tests/hardening/cli.test.ts': 44,
  'tests/kernels/attention.test.ts': 34,
  'tests/vae/decode.test.ts': 23,
  'tests/hardening/numerics.test.ts': 23,
  'tests/kernels/attention-bias.test.ts': 19,
  'tests/text/umt5.test.ts': 16,
  'tests/hardening/config-weights.test.ts': 14,
  'tests/kernels/compile.test.ts': 10,
  // integration
  // browser-profiler holds the UX and prompt-box tests too (one page): 144-183 s alone at load 7-11
  'tests/integration/browser-profiler.test.ts': 180,
  'tests/integration/package.test.ts': 103,
  'tests/integration/attention-long.test.ts': 97,
  'tests/integration/bench-cli.test.ts': 67,
  'tests/integration/tune-cli.test.ts': 60,
  'tests/integration/golden-cli.test.ts': 51,
  'tests/integration/vae-decode-cli.test.ts': 51,
  'tests/integration/bench-model.test.ts': 44,
  'tests/integration/sampler-cli.test.ts': 42,
  'tests/integration/browser-text.test.ts': 25,
  'tests/integration/pipeline.test.ts': 33,
  'tests/integration/umt5-pipeline.test.ts': 31,
  'tests/integration/tessera-shapes.test.ts': 12,
  'tests/integration/cli-ux.test.ts': 12,
  // seed 0 only in npm test: 84 clips × 20 steps + judge (both seeds: 304.6 s in a cold npm test
  // beside the other files); compute-bound
  'tests/integration/shapes-judge-bar.test.ts': 150,
};

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const root = this.ctx.config.root.replace(/\/?$/, '/');
    const secs = (f: TestSpecification) => SECONDS[f.moduleId.startsWith(root) ? f.moduleId.slice(root.length) : f.moduleId] ?? 0;
    return base.map((f, i) => ({ f, i, s: secs(f) })).sort((a, b) => b.s - a.s || a.i - b.i).map(({ f }) => f);
  }
}
