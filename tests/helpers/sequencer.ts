// Test files in order of how long they take, longest first, so that the two workers finish
// together instead of one starting a long file last while the other has nothing left
// (longest-processing-time-first). Vitest's own order needs a results cache that a fresh clone
// does not have, and then runs larger files first: attention-long.test.ts (1.9 KB, ~80–100 s)
// came last. The seconds below are per-file times of cold runs of `npm test` on the 2-core
// machine (the summary's "slowest files"), rounded; stale figures only change the order. Files
// not listed follow, in vitest's order.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SECONDS: Record<string, number> = {
  // per-file seconds of cold runs of `npm test`: unit from the 05:03 run with GALLIVM_PERF=nopt
  // (2 workers, unit project alone), integration from the 9:55 run at 9de630f
  // unit
  'tests/kernels/gemm.test.ts': 71,
  'tests/kernels/attention.test.ts': 28,
  'tests/kernels/attention-fa2.test.ts': 26,
  'tests/hardening/limits.test.ts': 21,
  'tests/kernels/compile.test.ts': 14,
  'tests/vae/decode.test.ts': 13,
  'tests/kernels/attention-bias.test.ts': 13,
  'tests/hardening/config-weights.test.ts': 11,
  'tests/sampler/resident.test.ts': 10,
  'tests/hardening/numerics.test.ts': 7,
  'tests/kernels/norm.test.ts': 7,
  'tests/hardening/device.test.ts': 6,
  'tests/models/memory-reuse.test.ts': 6,
  'tests/text/umt5.test.ts': 4,
  'tests/models/key-fold.test.ts': 10,
  'tests/profile/api-readme-example.test.ts': 20, // 31–48 s under load 20+ when added (a child process tunes, profiles, estimates)
  // integration
  'tests/integration/shapes-judge-bar.test.ts': 90, // 164 before the key fold (71 s alone, warm)
  'tests/integration/browser-profiler.test.ts': 128,
  'tests/integration/browser-pipeline.test.ts': 60, // 74–90 s under load 17–39 when added (c327df7)
  'tests/integration/bench-cli.test.ts': 51,
  'tests/integration/package.test.ts': 45,
  'tests/integration/tune-cli.test.ts': 44,
  'tests/integration/attention-long.test.ts': 43,
  'tests/integration/golden-cli.test.ts': 31,
  'tests/integration/bench-model.test.ts': 30,
  'tests/integration/sampler-cli.test.ts': 28,
  'tests/integration/vae-decode-cli.test.ts': 24,
  'tests/integration/browser-text.test.ts': 22,
  'tests/integration/tessera-shapes.test.ts': 17,
  'tests/integration/umt5-pipeline.test.ts': 16,
  'tests/integration/pipeline.test.ts': 15,
  'tests/integration/demo-cli.test.ts': 9,
  'tests/integration/cli-ux.test.ts': 8,
};

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const root = this.ctx.config.root.replace(/\/?$/, '/');
    const secs = (f: TestSpecification) => SECONDS[f.moduleId.startsWith(root) ? f.moduleId.slice(root.length) : f.moduleId] ?? 0;
    return base.map((f, i) => ({ f, i, s: secs(f) })).sort((a, b) => b.s - a.s || a.i - b.i).map(({ f }) => f);
  }
}
