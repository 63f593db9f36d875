// Norm's layout on a GPU adapter (audit 12 G defect 4): one row per invocation was measured on
// lavapipe only, so a heuristic picks it only where cpuTunedVariantsOk (src/gpu/policy.ts); a GPU
// gets the workgroup-per-row kernel (vec4 loads, subgroup sums) even for narrow rows. No GPU
// needed: the variant is a pure function of the adapter fields and the shape.
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.js';
import { DryAllocator, planningGpu } from '../../src/gpu/memory-plan.js';
import type { Plan, RecordArgs } from '../../src/gpu/plan.js';
import { norm } from '../../src/ops/norm.js';

/** The variant norm records for x [rows, cols] (modulated LayerNorm, as Wan's norm1) on `gpu`. */
function recorded(gpu: Gpu, rows: number, cols: number, rms = false): { flags: Record<string, boolean>; wg: number } {
  const alloc = new DryAllocator(gpu);
  const got: RecordArgs[] = [];
  const plan = { gpu, dummy: alloc.buffer(16, 0x80, 'dummy'), record: (a: RecordArgs) => got.push(a) } as unknown as Plan;
  const x = alloc.tensor([rows, cols], 'f16', 'x');
  const mod = alloc.tensor([1, 6 * cols], 'f16', 'mod');
  norm(plan, { x, out: alloc.tensor([rows, cols], 'f16', 'y'), eps: 1e-6, rms, ...(rms ? { weight: alloc.tensor([cols], 'f16', 'w') } : { modulate: { mod, stride: 6 * cols, shiftOffset: 0, scaleOffset: cols } }) });
  expect(got).toHaveLength(1);
  const v = got[0]!.variant!;
  return { flags: v.flags as Record<string, boolean>, wg: (v.overrides as { WG: number }).WG };
}

// an H200 as Dawn reports it, and lavapipe: only isCpu and the subgroup sizes matter to the op
const h200 = (): Gpu => Object.assign(planningGpu({}, true), { subgroups: true, subgroupMinSize: 32, subgroupMaxSize: 32, isCpu: false, adapterInfo: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' } });
const lavapipe = (): Gpu => Object.assign(planningGpu({}, true), { subgroups: true, subgroupMinSize: 8, subgroupMaxSize: 8, isCpu: true, adapterInfo: { vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: '' } });

describe('norm layout by adapter', () => {
  it('a GPU adapter gets a workgroup per row with vec4 loads and subgroup sums, narrow rows included (wan-tiny 96, dit-tiny 64)', () => {
    // wan-tiny's norm1 at its preset latent: 2 × 768 tokens of 96; dit-tiny's 2 × 64 of 64; a wide row
    for (const [rows, cols, rms] of [[1536, 96, false], [1536, 96, true], [4096, 64, false], [256, 256, false], [512, 1536, false]] as const) {
      const v = recorded(h200(), rows, cols, rms);
      expect(v.flags, `${rows}×${cols}`).toMatchObject({ F16: true, ROW_PER_THREAD: false, VEC4: true, SG: true });
      expect(v.wg).toBe(128);
    }
  });

  it('a CPU adapter keeps one row per invocation at every width (WG 64, no vec4, no subgroup sums)', () => {
    for (const [rows, cols] of [[1536, 96], [16, 1152], [4096, 1536]] as const) {
      const v = recorded(lavapipe(), rows, cols);
      expect(v.flags, `${rows}×${cols}`).toMatchObject({ ROW_PER_THREAD: true, VEC4: false, SG: false });
      expect(v.wg).toBe(64);
    }
  });
});
