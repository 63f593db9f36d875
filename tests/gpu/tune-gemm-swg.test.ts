// The GEMM tuner chooses the subgroup kernel's workgroup width (src/ops/gemm.ts): every subgroup strategy
// takes it from N (subgroupColumns: 64 lanes × 4 columns where that pads N no more than 32 × 4), so before
// session 18 the tuner could not try 32 lanes at N 1536 (the DiT-S block's ff.0, where 32 ran 0.69–0.88×
// the time on lavapipe), and ff.0 shared the bucket `f32 M1024 N2048 K512` with to_qkv (N 1152: 32 lanes),
// whose winner it then ran untimed. Now the bucket names the width, and where it is 64 lanes the
// candidates include subgroup-sr32-swg32[-k] (32 lanes × 4 columns). Cached entries keyed the old way match
// no call: re-tuned, never misread. The candidate lists need no GPU (fake adapters); the recording does.
import { afterAll, describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import type { Gpu } from '../../src/gpu/device.js';
import { Plan } from '../../src/gpu/plan.js';
import { Allocator } from '../../src/gpu/tensor.js';
import { defaultTuneMode, loadTuneCache, setTuneMode, setTuneStore, tuneKey, type TuneEntry } from '../../src/gpu/tune.js';
import { describeGemmStrategy, gemm, gemmBucket, gemmCandidates, gemmVariant, subgroupColumns, type GemmCandidate } from '../../src/ops/gemm.js';

const fake = (o: Partial<Gpu>): Gpu => ({ subgroups: true, subgroupMinSize: 8, subgroupMaxSize: 32, isCpu: true, limits: { maxComputeWorkgroupStorageSize: 32768 }, ...o }) as unknown as Gpu;
const cpu = fake({});

// [M, K, N] of the DiT-S block (D 384, 1024 tokens) and DiT-XL's ff.0
const TO_QKV = [1024, 384, 1152] as const;
const FF0 = [1024, 384, 1536] as const;
const XL_FF0 = [1024, 1152, 4608] as const;

describe('the GEMM bucket names the subgroup width', () => {
  it('to_qkv (N 1152, 32 lanes) and ff.0 (N 1536, 64 lanes) never share a decision', () => {
    expect(subgroupColumns(1152)).toEqual({ SWG: 32, SC: 4 });
    expect(subgroupColumns(1536)).toEqual({ SWG: 64, SC: 4 });
    const [m, k] = TO_QKV;
    expect(gemmBucket('f32', m, 1152, k)).toBe('f32 M1024 N2048 K512 SWG32x4');
    expect(gemmBucket('f32', m, 1536, k)).toBe('f32 M1024 N2048 K512 SWG64x4');
    expect(gemmBucket('f16', 5, 37, 37)).toBe('f16 M5 N64 K64 K%4 SWG8x1');
  });
});

describe('the GEMM candidates include 32 lanes where the heuristic width is 64', () => {
  it('at ff.0 and DiT-XL ff.0 (K compiled in): subgroup-sr32-swg32-k, four candidates, the heuristic first', () => {
    for (const [M, K, N] of [FF0, XL_FF0]) {
      expect(gemmCandidates(cpu, M, N, K)).toEqual(['subgroup-sr16', 'subgroup-sr32', 'subgroup-sr32-k', 'subgroup-sr32-swg32-k']);
    }
  });
  it('without a compiled-in K: subgroup-sr32-swg32 in a tiled kernel’s place', () => {
    expect(gemmCandidates(cpu, 1024, 1536, 400)).toEqual(['subgroup-sr16', 'subgroup-sr32', 'subgroup-sr32-swg32', 'tiled-128']);
  });
  it('where the width is already 32 (to_qkv), few rows, or a GPU adapter: the lists as before', () => {
    const [M, K, N] = TO_QKV;
    expect(gemmCandidates(cpu, M, N, K)).toEqual(['subgroup-sr16', 'subgroup-sr32', 'subgroup-sr16-k', 'subgroup-sr32-k']);
    expect(gemmCandidates(cpu, 64, 1536, 384)).toEqual(['subgroup-sr8', 'tiled-64']);
    expect(gemmCandidates(fake({ isCpu: false }), 1024, 1536, 384)).toEqual(['tiled-128', 'subgroup-sr16', 'tiled-64']);
  });
  it('subgroup-sr32-swg32[-k] run 32 rows, 32 lanes × 4 columns, K compiled in where a variant exists', () => {
    const knobs = (s: GemmCandidate, M: number, N: number, K: number) => gemmVariant(cpu, { M, N, K, dtype: 'f32', strategy: s }).variant.overrides;
    expect(knobs('subgroup-sr32-swg32-k', 1024, 1536, 384)).toEqual({ SR: 32, SWG: 32, SC: 4, KC: 96 });
    expect(knobs('subgroup-sr32-swg32-k', 1024, 1536, 400)).toEqual({ SR: 32, SWG: 32, SC: 4 });
    expect(knobs('subgroup-sr32-swg32', 1024, 1536, 384)).toEqual({ SR: 32, SWG: 32, SC: 4 });
    expect(knobs('subgroup-sr32-k', 1024, 1536, 384)).toEqual({ SR: 32, SWG: 64, SC: 4, KC: 96 });
    expect(describeGemmStrategy('subgroup-sr32-swg32-k', 1024, 1536, 384)).toBe('gemm_subgroup{SR=32,SWG=32,SC=4,KC=96}');
  });
});

const entry = (choice: string): TuneEntry => ({ choice, ms: { [choice]: 1 }, shapes: 'x[1024,384] w[1152,384]', date: '2026-12-02' });

describe.skipIf(!hasGpu)('recording the block’s to_qkv and ff.0 on this adapter', () => {
  afterAll(() => {
    setTuneStore(null);
    if (gpu) setTuneMode(gpu, defaultTuneMode()); // the unit files share the device (tests/helpers/gpu.ts): back to the run's mode
  });

  /** The subgroup knobs each call recorded (to_qkv, ff.0), and the buckets and candidates left for the tuner. */
  async function record(stored: Record<string, TuneEntry>) {
    setTuneStore({ where: 'memory (test)', load: async () => structuredClone(stored), save: async () => {} });
    await loadTuneCache();
    setTuneMode(gpu!, 'cached');
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      for (const [M, K, N] of [TO_QKV, FF0]) gemm(plan, { x: alloc.tensor([M, K], 'f32', 'x'), w: alloc.tensor([N, K], 'f32', 'w'), out: alloc.tensor([M, N], 'f32', 'y'), act: N === 1536 ? 'gelu' : 'none' });
      const knobs = plan.dispatches.map((d) => d.kernel.replace(/^[^{]*/, ''));
      const sites = plan.takeTunables().map((s) => ({ bucket: s.bucket, candidates: s.candidates, chosen: s.chosen }));
      return { knobs, sites };
    } finally {
      alloc.destroyAll();
    }
  }

  it('an entry cached under the old key (tuned on to_qkv) is not applied to either call', async () => {
    if (!gemmCandidates(gpu!, 1024, 1536, 384).includes('subgroup-sr32-k')) return; // not a CPU adapter with subgroups: nothing of this applies
    const old = { [tuneKey(gpu!, 'gemm', 'f32 M1024 N2048 K512')]: entry('subgroup-sr32-k') };
    const r = await record(old);
    expect(r.sites.map((s) => s.chosen)).toEqual(['subgroup-sr16', 'subgroup-sr16']);
    expect(r.sites[0]!.bucket).not.toBe(r.sites[1]!.bucket);
    expect(r.sites[0]!.candidates).not.toContain('subgroup-sr32-swg32-k');
    expect(r.sites[1]!.candidates).toContain('subgroup-sr32-swg32-k');
  });

  it('each bucket’s own entry is applied to its call: ff.0 runs 32 lanes when its bucket chose so', async () => {
    if (!gemmCandidates(gpu!, 1024, 1536, 384).includes('subgroup-sr32-k')) return;
    const at = (s: readonly number[]) => tuneKey(gpu!, 'gemm', gemmBucket('f32', s[0]!, s[2]!, s[1]!));
    const r = await record({ [at(TO_QKV)]: entry('subgroup-sr32-k'), [at(FF0)]: entry('subgroup-sr32-swg32-k') });
    expect(r.sites.map((s) => s.chosen)).toEqual(['subgroup-sr32-k', 'subgroup-sr32-swg32-k']);
    expect(r.knobs[0]).toMatch(/KC=96,SC=4,SR=32,SWG=32/);
    expect(r.knobs[1]).toMatch(/KC=96,SC=4,SR=32,SWG=32/);
  });
});
