// `tessera bench plan` planned every run for WebGPU's default 128 MiB bindings, so on a large GPU (an
// H200 under Dawn reports 4 GiB − 4) it said "not plannable on such an adapter" of runs that fit, and
// showed a plan (token chunks, item by item) other than the one the run records. --max-binding SIZE
// plans for the adapter at hand; the rows agree with the library's estimateMemory for those limits, and
// a count past 32 bits is reported. No GPU: bench plan is a dry run.
import { describe, expect, it } from 'vitest';
import type { Parsed } from '../../src/cli/args.js';
import { UsageError } from '../../src/cli/args.js';
import { DEFAULT_BINDING, runPlanBench } from '../../src/cli/bench-plan.js';
import { parseConfig } from '../../src/model/config.js';
import { estimateMemory } from '../../src/model/memory.js';
import { PRESETS } from '../../src/model/presets.js';
import { thrown } from '../helpers/errors.js';

const GiB = 2 ** 30;
const plan = (flags: Record<string, unknown>) => runPlanBench({ _: ['plan'], preset: 'wan-1.3b', ...flags } as unknown as Parsed);
// Wan 720p × 81 frames: 21 latent frames of 90×160, the CFG batch of 2
const P720 = { frames: 21, height: 90, width: 160, 'text-len': 512 };

describe('bench plan --max-binding', () => {
  it("plans for the adapter's binding limit: Wan-1.3B 720p × 81 frames fits 4 GiB bindings, as estimateMemory says", () => {
    const lavapipe = plan(P720);
    expect(lavapipe.binding_limit).toBe(DEFAULT_BINDING);
    expect(lavapipe.rows.find((r) => r.dtype === 'f32')!.fits_binding_limit).toBe(false);
    const big = plan({ ...P720, 'max-binding': '4GiB' });
    expect(big.binding_limit).toBe(4 * GiB);
    const c = parseConfig(PRESETS['wan-1.3b']!.config);
    for (const row of big.rows) {
      expect(row.fits_binding_limit, row.dtype).toBe(true);
      expect(row.overflow, row.dtype).toBeNull();
      const est = estimateMemory(c, big.latent, big.text!, row.dtype, { maxStorageBufferBindingSize: 4 * GiB, maxBufferSize: 4 * GiB });
      expect(row.activations_after, row.dtype).toBe(est.activations);
      expect(row.dispatches, row.dtype).toBe(est.plan.dispatches);
      expect(row.largest_binding.bytes, row.dtype).toBeLessThanOrEqual(4 * GiB);
    }
    // on 4 GiB bindings the f16 step records without token chunks: fewer dispatches than for 128 MiB
    const f16 = (r: typeof big) => r.rows.find((x) => x.dtype === 'f16')!;
    expect(f16(big).dispatches).toBeLessThan(f16(lavapipe).dispatches);
  });

  it('a count past 32 bits is reported (4K × 401 frames on 64 GiB bindings: one item of x is 5.0e9 elements)', () => {
    const r = plan({ frames: 101, height: 270, width: 480, 'max-binding': '64GiB' });
    for (const row of r.rows) expect(row.overflow, row.dtype).toBe('gemm_tiled@patch_embedding: the element count of x [1,3272400,1536] is 5026406400, above 4294967295 (the 2^32 − 1 a WebGPU kernel counts to in 32 bits)');
  });

  it('a size that is none: a UsageError naming the flag', () => {
    expect(thrown(() => plan({ 'max-binding': 'lots' }), UsageError).message).toBe('--max-binding: not a memory size: "lots" (expected e.g. 512MiB, 2GiB or a number of bytes)');
  });
});
