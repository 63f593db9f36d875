// tuneScratchBytes sizes a call's tuning scratch by running every candidate's bench on a DryAllocator. The
// benches built their seeded host inputs first (≈50M values for a wan-1.3b FFN GEMM, per candidate) for an
// upload that ignores them; on a dry allocator they now pass no data.
import { describe, expect, it } from 'vitest';
import { DryAllocator, planningGpu } from '../../src/gpu/memory-plan.js';
import { Plan, type Dispatch, type TuneRequest } from '../../src/gpu/plan.js';
import type { DType, Tensor } from '../../src/gpu/tensor.js';
import { attention } from '../../src/ops/attention.js';
import { gemm } from '../../src/ops/gemm.js';

/** A plan that keeps the tuning request instead of recording (recordTuned on a dry plan keeps none). */
class Capture extends Plan {
  req: TuneRequest | null = null;
  override recordTuned(r: TuneRequest): Dispatch {
    this.req = r;
    return {} as Dispatch;
  }
}

/** Notes the length of every upload's data. */
class Lengths extends DryAllocator {
  seen: number[] = [];
  override upload(data: Float32Array | number[], shape: number[], dtype: DType, label: string): Tensor {
    this.seen.push(data.length);
    return super.upload(data, shape, dtype, label);
  }
}

const gpu = planningGpu();
const dry = new DryAllocator(gpu);

function benchUploads(record: (p: Plan) => void): number[] {
  const p = new Capture(gpu, dry);
  record(p);
  const r = p.req!;
  expect(r.candidates.length).toBeGreaterThan(0);
  const seen: number[] = [];
  for (const name of r.candidates) {
    const al = new Lengths(gpu);
    r.bench(new Plan(gpu, al), name);
    seen.push(...al.seen);
  }
  return seen;
}

describe('tuning benches on a dry allocator build no host data', () => {
  it('gemm (with bias): every upload gets []', () => {
    const seen = benchUploads((p) =>
      gemm(p, { x: dry.tensor([64, 256], 'f32', 'x'), w: dry.tensor([128, 256], 'f32', 'w'), bias: dry.tensor([128], 'f32', 'b'), out: dry.tensor([64, 128], 'f32', 'y') }),
    );
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((n) => n === 0)).toBe(true);
  });
  it('attention: every upload gets []', () => {
    const t = (L: number) => dry.tensor([1, L, 64], 'f32', 't');
    const seen = benchUploads((p) => attention(p, { q: t(32), k: t(48), v: t(48), out: t(32), heads: 2, headDim: 32 }));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((n) => n === 0)).toBe(true);
  });
});
