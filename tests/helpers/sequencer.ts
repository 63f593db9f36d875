// Test files in order of how long they take, longest first, so that the two workers finish
// together instead of one starting a long file last while the other has nothing left
// (longest-processing-time-first). Vitest's own order needs a results cache that a fresh clone
// does not have, and then runs larger files first: attention-long.test.ts (1.9 KB, ~80–100 s)
// came last. The seconds below are per-file times of cold runs of `npm test` on the 2-core
// machine (the summary's "slowest files"), rounded; stale figures only change the order. Files
// not listed follow, in vitest's order.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SECONDS: Record<string, number> = {
  // per-file seconds (median) of the three quiet cold runs of `npm test` at the end of session 17
  // (both projects in one pool of two workers; /tmp/final2..4.log), files of 5 s or more.
  // `// s19`: files session 19 made cheaper, their session-17 figure scaled by the file's CPU seconds after / before
  // (each file alone, a fresh Mesa cache, before and after trees side by side under load; bench/RESULTS.md "Session
  // 19 — non-browser test time"); cli-help, pipeline-early-checks and generate-inputs-early fell under 5 s (left out)
  // unit
  'tests/kernels/gemm.test.ts': 90,
  'tests/cli/gpu-check-script.test.ts': 35, // 58–64 s before its 30 s budget run overlapped the rest of the file (now ~ that run)
  'tests/pipeline/profile-exclusive.test.ts': 11, // s19
  'tests/pipeline/pipeline-calls.test.ts': 11, // s19
  'tests/pipeline/pipeline-progress.test.ts': 17, // s19
  'tests/kernels/attention.test.ts': 16,
  'tests/vae/decode.test.ts': 15,
  'tests/gpu/count-limits.test.ts': 14,
  'tests/vae/vae-api.test.ts': 14,
  'tests/hardening/planner-presets.test.ts': 13,
  'tests/kernels/attention-fa2.test.ts': 12,
  'tests/pipeline/pipeline-abort.test.ts': 12,
  'tests/kernels/compile.test.ts': 11,
  'tests/kernels/attention-bias.test.ts': 11,
  'tests/hardening/planner-overflow.test.ts': 10,
  'tests/pipeline/pipeline-max-memory.test.ts': 10,
  'tests/vae/vae-memory.test.ts': 10,
  'tests/models/tune-budget.test.ts': 9,
  'tests/kernels/norm.test.ts': 8,
  'tests/cli/demo-flags.test.ts': 7,
  'tests/models/qkv-split-align.test.ts': 7,
  'tests/hardening/limits.test.ts': 6,
  'tests/pipeline/callback-contract.test.ts': 6,
  'tests/cli/tune-threads-cli.test.ts': 6,
  'tests/hardening/config-weights.test.ts': 6,
  'tests/models/model-safety.test.ts': 5,
  // s22: sixteen processes one after the other (tests/gpu/dawn-exit-in-flight.test.ts; 55 s beside a CPU hog and another
  // vitest run, ~25 s estimated quiet): left unlisted it could start last and run alone at the end
  'tests/gpu/dawn-exit-in-flight.test.ts': 25,
  // integration
  // browser files: session 20's first cold run (11:31 UTC; the review file's 184 s had a case cut short by a failure, ~240 s
  // when it passes) after session 20 merged page runs
  'tests/integration/browser-profiler-review.test.ts': 240,
  'tests/integration/browser-profiler.test.ts': 151,
  'tests/integration/shapes-judge-bar.test.ts': 93,
  'tests/integration/browser-profiler-timeline.test.ts': 97,
  'tests/integration/browser-profiler-edits.test.ts': 105,
  'tests/integration/tune-cli.test.ts': 53, // s19
  'tests/integration/package.test.ts': 44,
  'tests/integration/browser-pipeline.test.ts': 37,
  'tests/integration/output-commit-cli.test.ts': 28, // s19
  'tests/integration/cli-ux.test.ts': 22, // s19
  'tests/integration/bench-cli.test.ts': 20, // s19
  'tests/integration/browser-profiler-keyboard.test.ts': 30,
  'tests/integration/bench-model.test.ts': 23, // s19
  'tests/integration/generate-flags-cli.test.ts': 15, // s19
  'tests/integration/attention-long.test.ts': 23,
  'tests/integration/demo-cli.test.ts': 21, // s19
  'tests/integration/own-folders-cli.test.ts': 17, // s19
  'tests/integration/golden-cli.test.ts': 21,
  'tests/integration/sampler-cli.test.ts': 9, // s19
  'tests/integration/output-paths-cli.test.ts': 18,
  'tests/integration/vae-decode-cli.test.ts': 17,
  'tests/integration/stdout-closed-interrupt-cli.test.ts': 16,
  'tests/integration/decode-progress-cli.test.ts': 15,
  'tests/integration/umt5-pipeline.test.ts': 11,
  'tests/integration/tune-progress-cli.test.ts': 10,
  'tests/integration/embedded-inputs-default-prompt-cli.test.ts': 10,
  'tests/integration/tessera-shapes.test.ts': 8,
  'tests/integration/browser-text.test.ts': 7,
  'tests/integration/pipeline.test.ts': 6,
  'tests/integration/demo-size-cli.test.ts': 6,
  'tests/integration/docs-examples-compile.test.ts': 5,
  'tests/integration/pipeline-batch-prompt-cli.test.ts': 5,
};

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const root = this.ctx.config.root.replace(/\/?$/, '/');
    const secs = (f: TestSpecification) => SECONDS[f.moduleId.startsWith(root) ? f.moduleId.slice(root.length) : f.moduleId] ?? 0;
    return base.map((f, i) => ({ f, i, s: secs(f) })).sort((a, b) => b.s - a.s || a.i - b.i).map(({ f }) => f);
  }
}
