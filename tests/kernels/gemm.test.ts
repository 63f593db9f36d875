import { beforeAll, describe, expect, it } from 'vitest';
import { dtypes, gpu, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { gemm, gemmStrategiesFor, gemmVariant, type GemmArgs, type GemmCandidate, type GemmStrategy } from '../../src/ops/gemm.js';
import { compileKernels, variantKey } from '../../src/gpu/kernel.js';
import { subgroupsOf8 } from '../../src/gpu/policy.js';
import { gemmRef } from '../../src/ref/gemm.js';
import { randn } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import { Allocator, readTensor, subTensor, type DType } from '../../src/gpu/tensor.js';
import { Plan } from '../../src/gpu/plan.js';

// [batch, tokens, K, N]: size-1 dims, odd sizes, sizes not multiples of the tiles (tiled kernel:
// BM/BN 64 or 128, BK 8/16; SG kernel: 8/16 rows × 256 columns; gemv: 1–8 rows × 4 columns) or
// of 4 (the scalar-load path), real
// widths at small token counts.
const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1], [1, 1, 7, 1], [1, 1, 1, 9], [1, 3, 5, 7], [2, 5, 33, 17], [1, 17, 16, 64],
  [3, 4, 129, 65], [2, 9, 64, 130], [1, 129, 20, 3], [2, 70, 48, 72], [1, 2, 1000, 5], [4, 3, 384, 384],
  [2, 5, 384, 1152], [1, 7, 1152, 384], [2, 3, 1536, 1536], [1, 5, 1152, 4608], [1, 3, 8960, 96],
  [1, 2, 96, 8960], [1, 4, 4608, 1152], [2, 33, 37, 100], [1, 1, 1536, 1], [3, 1, 2, 300],
  [1, 131, 1, 67], [2, 64, 72, 128],
];

const ACTS = ['none', 'gelu', 'silu'] as const;
const RES = ['store', 'residual', 'gated'] as const;
// Epilogue combination i (mod 18) of bias × act × residual mode.
const combo = (i: number) => ({ bias: i % 2 === 1, act: ACTS[Math.floor(i / 2) % 3]!, res: RES[Math.floor(i / 6) % 3]! });
// bias+gelu+gated and silu+residual: every epilogue flag (BIAS, GELU, SILU, RESIDUAL, GATE, and RESIDUAL without
// GATE) in two variants. The first is the strategies cases' epilogue (below), so a kernel key those cases compile
// (the default tiled and gemv kernels with vec4 loads) runs it on their variant, not a variant of its own.
const STRATEGY_EPILOGUE = 15;
const EVERY_FLAG = [STRATEGY_EPILOGUE, 10];

// Each (kernel, knobs, dtype, load path) × epilogue is its own variant, and each variant costs
// lavapipe a compile of ~1 s (quiet) to ~10 s (loaded) on a cold shader cache: the epilogues are
// assigned so that cases which pick the same kernel variant share them, instead of one new
// variant per case.
/** The variant key of a shape without its epilogue flags: the kernel, knobs, dtype and load path it picks. */
function kernelKey(dtype: DType, c: Pick<Case, 'B' | 'T' | 'K' | 'N' | 'tile' | 'strategy'>): string {
  if (!gpu) return '';
  const v = gemmVariant(gpu, { M: c.B * c.T, N: c.N, K: c.K, dtype, tile: c.tile, strategy: c.strategy });
  return variantKey(v.spec, v.variant);
}

/** Case indices by kernel key, in first-seen order. */
function byKernel(keys: string[]): number[][] {
  const groups = new Map<string, number[]>();
  keys.forEach((k, i) => (groups.get(k) ?? groups.set(k, []).get(k)!).push(i));
  return [...groups.values()];
}

/**
 * An epilogue combination (index for combo()) per case such that all `n` combinations run with the
 * fewest variants: every kernel key gets one (`prefer`'s where it names the key: a combination
 * whose variant another group compiles anyway; the others, the combinations not given yet first),
 * the rest go to kernel keys with cases to spare, and a key's cases cycle through its combinations.
 * `keys`: each case's kernelKey.
 */
function coverAll(keys: string[], n = 18, prefer: ReadonlyMap<string, number> = new Map()): number[] {
  const groups = byKernel(keys);
  const first = groups.map((l) => prefer.get(keys[l[0]!]!));
  const todo = [...Array(n).keys()].filter((e) => !first.includes(e)); // combinations no key has yet
  const given = first.map((e, g) => [e ?? todo.shift() ?? g % n]);
  while (todo.length && groups.some((l, g) => given[g]!.length < l.length)) {
    groups.forEach((l, g) => {
      if (todo.length && given[g]!.length < l.length) given[g]!.push(todo.shift()!);
    });
  }
  const out: number[] = [];
  groups.forEach((l, g) => l.forEach((i, j) => (out[i] = given[g]![j % given[g]!.length]!)));
  return out;
}

/** Each kernel key's cases cycle through `combos` (every key runs each, where it has the cases). */
function cycle(keys: string[], combos: number[]): number[] {
  const out: number[] = [];
  for (const l of byKernel(keys)) l.forEach((i, j) => (out[i] = combos[j % combos.length]!));
  return out;
}

// The SG kernel needs subgroups of ≥ 8 lanes (the adapter policy's rule); on a CPU adapter that
// has them it is the heuristic's choice, so the SHAPES sweep runs it there; TILED_SHAPES runs the
// tiled kernel (SG=0) and GEMV_SHAPES the few-rows kernel as well, whatever the adapter.
const hasSG = !!gpu && subgroupsOf8(gpu);
const TILED_SHAPES = [0, 3, 4, 6, 7, 9, 11, 13, 16, 19, 22, 23];
const GEMV_SHAPES = [0, 3, 4, 10, 11, 17, 20, 21];

const round = (a: Float32Array, d: DType) => (d === 'f16' ? a.map(roundF16) : a);

interface Case {
  B: number;
  T: number;
  K: number;
  N: number;
  bias: boolean;
  act: (typeof ACTS)[number];
  res: (typeof RES)[number];
  tile?: GemmArgs['tile'];
  strategy?: GemmCandidate;
}

/** The variant case `c` dispatches (what beforeAll compiles; check() asserts it is the one run). */
const variantOf = (dtype: DType, c: Case) =>
  gemmVariant(gpu!, { M: c.B * c.T, N: c.N, K: c.K, dtype, bias: c.bias, act: c.act, residual: c.res !== 'store', gate: c.res === 'gated', tile: c.tile, strategy: c.strategy });

async function check(dtype: DType, c: Case, seed: number, what: string): Promise<void> {
  const { B, T, K, N } = c;
  const M = B * T;
  let kernel = '';
  const x = round(randn(M * K, seed), dtype);
  const w = round(randn(N * K, seed + 1000, 1 / Math.sqrt(K)), dtype);
  const b = round(randn(N, seed + 2000, 0.5), dtype);
  const init = round(randn(M * N, seed + 3000), dtype);
  const stride = 6 * N; // like Wan's [B, 6, D] modulation; gate at offset 2·N
  const mod = round(randn(B * stride, seed + 4000), dtype);
  const gate = { stride, offset: 2 * N, tokens: T };
  const got = await runOnce((plan, alloc) => {
    const out = c.res === 'store' ? alloc.tensor([B, T, N], dtype, 'out') : alloc.upload(init, [B, T, N], dtype, 'out');
    gemm(plan, {
      x: alloc.upload(x, [B, T, K], dtype, 'x'),
      w: alloc.upload(w, [N, K], dtype, 'w'),
      bias: c.bias ? alloc.upload(b, [N], dtype, 'b') : undefined,
      out,
      act: c.act,
      residual: c.res !== 'store',
      gate: c.res === 'gated' ? { mod: alloc.upload(mod, [B, stride], dtype, 'mod'), ...gate } : undefined,
      tile: c.tile,
      strategy: c.strategy,
    });
    kernel = plan.dispatches[0]!.kernel;
    return out;
  });
  const pre = variantOf(dtype, c);
  expect(kernel, `${what}: dispatched a variant beforeAll did not compile`).toBe(variantKey(pre.spec, pre.variant));
  const ref = gemmRef(x, w, {
    M, K, N,
    bias: c.bias ? b : undefined,
    act: c.act,
    residual: c.res !== 'store' ? init : undefined,
    gate: c.res === 'gated' ? { mod, ...gate } : undefined,
  });
  expectClose(got, ref, [B, T, N], TOL.gemm![dtype], what);
}

/** One comparison against gemmRef: its name, dtype, shape, epilogue, kernel choice and seed. */
interface Named {
  /** Cases of a group share a describe block and its beforeAll compile. */
  group: string;
  name: string;
  dtype: DType;
  c: Case;
  seed: number;
  skip?: boolean;
}
const CASES: Named[] = [];

// The strategies cases' shape (below): partial tiles on every edge.
const STRATEGY_SHAPE = { B: 2, T: 37, K: 52, N: 70 };
/** The kernel keys the strategies cases compile at `dtype`, each with STRATEGY_EPILOGUE: a group that runs one of them runs that epilogue on it. */
const strategyKeys = (dtype: DType) => new Map((gpu ? (gemmStrategiesFor(gpu) as GemmStrategy[]) : []).map((strategy) => [kernelKey(dtype, { ...STRATEGY_SHAPE, strategy }), STRATEGY_EPILOGUE]));

// Every shape at each dtype; all 18 epilogue combinations at each dtype.
for (const dtype of dtypes) {
  const epi = coverAll(SHAPES.map(([B, T, K, N]) => kernelKey(dtype, { B, T, K, N })), 18, strategyKeys(dtype));
  SHAPES.forEach(([B, T, K, N], i) => {
    const c: Case = { B, T, K, N, ...combo(epi[i]!) };
    CASES.push({ group: 'the heuristic kernel, every shape', name: `${dtype} B=${B} T=${T} K=${K} N=${N} ${c.bias ? 'bias+' : ''}${c.act}+${c.res}`, dtype, c, seed: 1 + i });
  });
}

// The tiled (workgroup-memory) kernel, the fallback without subgroups: each of its variants
// (load path, tile) with both EVERY_FLAG epilogues.
for (const dtype of dtypes) {
  const epi = cycle(TILED_SHAPES.map((i) => { const [B, T, K, N] = SHAPES[i]!; return kernelKey(dtype, { B, T, K, N, tile: { SG: 0 } }); }), EVERY_FLAG);
  for (const [j, i] of TILED_SHAPES.entries()) {
    const [B, T, K, N] = SHAPES[i]!;
    const c: Case = { B, T, K, N, ...combo(epi[j]!), tile: { SG: 0 } };
    CASES.push({ group: 'tiled kernel', name: `tiled ${dtype} B=${B} T=${T} K=${K} N=${N} ${c.bias ? 'bias+' : ''}${c.act}+${c.res}`, dtype, c, seed: 100 + i });
  }
}

// The few-rows kernel (8 rows per workgroup, K split over the lanes), each of its variants with
// both EVERY_FLAG epilogues; 1..30 rows exercise clamped rows and several row tiles (f16: half
// the shapes).
for (const dtype of dtypes) {
  const shapes = GEMV_SHAPES.filter((_, j) => dtype === 'f32' || j % 2 === 0);
  const epi = cycle(shapes.map((i) => { const [B, T, K, N] = SHAPES[i]!; return kernelKey(dtype, { B, T, K, N, tile: { GEMV: 1 } }); }), EVERY_FLAG);
  for (const [j, i] of shapes.entries()) {
    const [B, T, K, N] = SHAPES[i]!;
    const c: Case = { B, T, K, N, ...combo(epi[j]!), tile: { GEMV: 1 } };
    CASES.push({ group: 'gemv kernel', name: `gemv ${dtype} B=${B} T=${T} K=${K} N=${N} ${c.bias ? 'bias+' : ''}${c.act}+${c.res}`, dtype, c, seed: 200 + i });
  }
}

// Every strategy the tuner may choose, by name, at a shape with partial tiles on every edge
// (what a cached choice records), f32 and f16.
for (const dtype of dtypes) {
  for (const s of (gpu ? gemmStrategiesFor(gpu) : []) as GemmStrategy[]) {
    const c: Case = { ...STRATEGY_SHAPE, ...combo(STRATEGY_EPILOGUE), strategy: s };
    CASES.push({ group: 'strategies', name: `strategy ${s} ${dtype}`, dtype, c, seed: 300 });
  }
}

// SG kernel knobs: rows per workgroup 8/16/32, 1..4 columns per invocation, workgroup sizes;
// M, N, K not multiples of anything (partial row and column tiles, scalar-K path). The two
// vec4-K shapes of a tile share its variant (one epilogue per tile, load path and dtype).
const SG_TILES: Record<string, number>[] = [
  { SG: 1, SR: 8, SC: 1 },
  { SG: 1, SR: 16, SC: 2, SWG: 32 },
  { SG: 1, SR: 8, SC: 3, SWG: 8 },
  { SG: 1, SC: 4, SWG: 128 },
  // 32 rows: its four 8-row groups as sibling calls (kernels/gemm_subgroup.wgsl); M = 90, 18, 2
  { SG: 1, SR: 32, SC: 3, SWG: 8 },
];
// A tile whose kernel key a strategy compiles (SR 8, SC 3 at vec4 K) runs the strategies' epilogue.
for (const dtype of dtypes) {
  const shared = strategyKeys(dtype);
  SG_TILES.forEach((tile, i) => {
    for (const [T, K, N] of [[45, 37, 77], [9, 100, 300], [1, 68, 5]] as const) {
      const c: Case = { B: 2, T, K, N, ...combo(shared.get(kernelKey(dtype, { B: 2, T, K, N, tile })) ?? 3 + 5 * i + (K % 4 === 0 ? 1 : 0) + (dtype === 'f16' ? 7 : 0)), tile };
      CASES.push({ group: 'SG kernel knobs', name: `SG ${dtype} ${JSON.stringify(tile)} M=${2 * T} K=${K} N=${N} ${c.act}+${c.res}`, dtype, c, seed: 70 + i, skip: !hasSG });
    }
  });
}

// SG kernel with K compiled in (tile KC = K/4; the tuner's subgroup-sr16-k on CPU adapters): M and
// N not multiples of the row/column tiles, batch 2, 8, 16 and 32 rows per workgroup (the tuner's
// subgroup-sr32-k), store, residual and gated epilogues (the block's ff.2 is bias+gated), f32 and
// f16: 5 variants.
for (const dtype of dtypes) {
  const shapes = dtype === 'f32' ? ([[2, 70, 384, 50, 0, 16], [2, 21, 384, 72, 13, 16], [1, 9, 1536, 20, 3, 16], [2, 53, 384, 44, 13, 32]] as const) : ([[1, 29, 384, 40, 8, 16]] as const);
  shapes.forEach(([B, T, K, N, e, SR], i) => {
    const c: Case = { B, T, K, N, ...combo(e), tile: { SG: 1, KC: K / 4, ...(SR === 32 ? { SR } : {}) } };
    CASES.push({ group: 'SG kernel, K compiled in', name: `KC ${dtype}${SR === 32 ? ' SR=32' : ''} M=${B * T} K=${K} N=${N} ${c.bias ? 'bias+' : ''}${c.act}+${c.res}`, dtype, c, seed: 400 + i, skip: !hasSG });
  });
}

// The tuner's 32-lane candidates by name (subgroup-sr32-swg32[-k]: 32 rows, 32 lanes × 4 columns
// whatever N, timed where N gives the other subgroup strategies 64 lanes): K compiled in and not (the
// scalar-K path), M and N not multiples of the row/column tiles, batch 2, f32 and f16: 3 variants.
for (const dtype of dtypes) {
  const shapes = dtype === 'f32' ? ([[2, 53, 384, 300, 15, 'subgroup-sr32-swg32-k'], [2, 45, 37, 260, 4, 'subgroup-sr32-swg32']] as const) : ([[2, 29, 384, 200, 9, 'subgroup-sr32-swg32-k']] as const);
  shapes.forEach(([B, T, K, N, e, strategy], i) => {
    const c: Case = { B, T, K, N, ...combo(e), strategy };
    CASES.push({ group: 'SG kernel, 32 lanes × 4 columns', name: `${strategy} ${dtype} M=${B * T} K=${K} N=${N} ${c.bias ? 'bias+' : ''}${c.act}+${c.res}`, dtype, c, seed: 500 + i, skip: !hasSG });
  });
}

// Non-default tiles: every knob deviates somewhere, with partial tiles on every edge.
const TILES: Record<string, number>[] = [
  { TM: 4, TN: 4, WGX: 8, WGY: 8, BK: 16 },
  { TM: 4, TN: 8, WGX: 16, WGY: 8, BK: 8 },
  { TM: 8, TN: 4, WGX: 8, WGY: 16, BK: 8 },
  { GEMV: 1, WG: 128, MR: 2 },
];
TILES.forEach((tile, i) => {
  for (const K of [37, 100]) {
    const c: Case = { B: 2, T: 45, K, N: 77, ...combo(5 + 7 * i), tile };
    CASES.push({ group: 'tile knobs', name: `tile ${JSON.stringify(tile)} K=${K} ${c.act}+${c.res}`, dtype: 'f32', c, seed: 50 + i });
  }
});

const VARIANTS_PER_HOOK = 12;

/** `cases` in order, cut into runs that use at most VARIANTS_PER_HOOK distinct variants each. */
function byVariants(cases: Named[]): Named[][] {
  const parts: Named[][] = [];
  let keys = new Set<string>();
  for (const k of cases) {
    const v = k.skip ? null : variantOf(k.dtype, k.c); // skipped cases may not run here at all
    const key = v ? variantKey(v.spec, v.variant) : '';
    if (parts.length === 0 || (key && !keys.has(key) && keys.size === VARIANTS_PER_HOOK)) {
      parts.push([]);
      keys = new Set();
    }
    parts[parts.length - 1]!.push(k);
    if (key) keys.add(key);
  }
  return parts;
}

// Output planes (the fused q|k|v projection) per strategy and dtype: [B, T, K, plane width,
// planes, packed back to back]. With the strategies cases' epilogue (bias+gelu+gated) and their
// kernel knobs (SG: N = 72 and 24 take the columns per workgroup of N = 70), so no variant of
// their own.
const PLANES = [[2, 37, 52, 24, 3, false], [1, 5, 52, 12, 2, true]] as const;

describe.skipIf(!hasGpu)('gemm kernel vs float64 reference', () => {
  // Each part's variants are compiled once, in its beforeAll, before its first test: lavapipe
  // generates a pipeline's code on its first dispatch (~1 s per variant on a quiet 2-core
  // machine, ~10 s at a load average of 20; 89 variants in all with f16 and subgroups on lavapipe), so no test pays for a
  // compile, and no hook holds more than VARIANTS_PER_HOOK of them (46 in one hook ran past 600 s
  // at a load average of 20–30).
  for (const group of [...new Set(CASES.map((k) => k.group))]) {
    const parts = hasGpu ? byVariants(CASES.filter((k) => k.group === group)) : [];
    describe(group, () => {
      parts.forEach((cases, p) => {
        describe(`part ${p + 1} of ${parts.length}`, () => {
          beforeAll(async () => {
            await compileKernels(gpu!, cases.filter((k) => !k.skip).map((k) => variantOf(k.dtype, k.c)));
          }, 600_000);
          for (const k of cases) it.skipIf(!!k.skip)(k.name, () => check(k.dtype, k.c, k.seed, `gemm ${k.name}`));
        });
      });
    });
  }

  // coverAll's promise, with the strategies' epilogue preferred where they share a kernel key
  it('the heuristic sweep runs all 18 epilogue combinations at each dtype', () => {
    for (const dtype of dtypes) {
      const ran = new Set(CASES.filter((k) => k.group === 'the heuristic kernel, every shape' && k.dtype === dtype).map(({ c }) => `${c.bias}+${c.act}+${c.res}`));
      expect(ran.size, dtype).toBe(18);
    }
  });

  // Every strategy records at the models' extreme widths (Wan FFN down K = 8960, modulation
  // N = 9216 at 2 rows) within the limits every adapter has (no knob check throws).
  it('every strategy records at real widths and few rows', async () => {
    for (const s of (gpu ? gemmStrategiesFor(gpu) : []) as GemmStrategy[]) {
      for (const [M, K, N] of [[2, 8960, 8], [2, 1536, 9216], [4096, 1152, 1152]] as const) {
        await runOnce((plan, alloc) => {
          const out = alloc.tensor([M, N], 'f32', 'y');
          gemm(plan, { x: alloc.tensor([M, K], 'f32', 'x'), w: alloc.tensor([N, K], 'f32', 'w'), out, strategy: s });
          plan.dispatches.length = 0; // recorded and validated; not run (the sizes are for the knob checks)
          return out;
        });
      }
    }
  });

  describe('output planes', () => {
    beforeAll(async () => {
      const variants = dtypes.flatMap((dtype) =>
        (gemmStrategiesFor(gpu!) as GemmStrategy[]).flatMap((strategy) => PLANES.map(([B, T, K, width, count]) => gemmVariant(gpu!, { M: B * T, N: width * count, K, dtype, bias: true, act: 'gelu', residual: true, gate: true, strategy }))),
      );
      await compileKernels(gpu!, variants);
    }, 600_000);

    // Planes (the fused q|k|v projection): output column n lands in plane ⌊n / width⌋ at element
    // stride·plane, each plane a contiguous [rows, width] tensor read back through its own offset;
    // every strategy, f32 and f16, rows and widths off the tiles, bias+gelu+gated (the residual
    // read and the write both go through the plane index; one variant per strategy and dtype,
    // the strategies cases'), 3 planes at an aligned stride (what the block binds) and 2 planes
    // packed back to back (stride = rows·width).
    for (const dtype of dtypes) {
      for (const s of (gpu ? gemmStrategiesFor(gpu) : []) as GemmStrategy[]) {
        for (const [B, T, K, width, count, packed] of PLANES) {
          it(`planes ${s} ${dtype} M=${B * T} K=${K} ${count}×${width}${packed ? ' packed' : ''}`, async () => {
            const M = B * T;
            const N = width * count;
            const x = round(randn(M * K, 7), dtype);
            const w = round(randn(N * K, 8, 1 / Math.sqrt(K)), dtype);
            const b = round(randn(N, 9, 0.5), dtype);
            const init = round(randn(M * N, 10), dtype); // the residual, [M, N]
            const gate = { mod: round(randn(B * 6 * N, 11), dtype), stride: 6 * N, offset: 2 * N, tokens: T };
            const align = gpu!.device.limits.minStorageBufferOffsetAlignment / (dtype === 'f16' ? 2 : 4);
            const stride = packed ? M * width : Math.ceil((M * width) / align) * align;
            const planar = new Float32Array(count * stride); // the residual in the planes' layout
            for (let q = 0; q < count; q++) for (let m = 0; m < M; m++) for (let c = 0; c < width; c++) planar[q * stride + m * width + c] = init[m * N + q * width + c]!;
            const alloc = new Allocator(gpu!);
            try {
              const plan = new Plan(gpu!, alloc);
              const out = alloc.upload(planar, [count * stride], dtype, 'qkv');
              gemm(plan, {
                x: alloc.upload(x, [B, T, K], dtype, 'x'), w: alloc.upload(w, [N, K], dtype, 'w'), bias: alloc.upload(b, [N], dtype, 'b'), out,
                act: 'gelu', residual: true, gate: { ...gate, mod: alloc.upload(gate.mod, [B, gate.stride], dtype, 'mod') }, planes: { width, stride }, strategy: s,
              });
              await plan.run('planes');
              const ref = gemmRef(x, w, { M, K, N, bias: b, act: 'gelu', residual: init, gate });
              for (let q = 0; q < count; q++) {
                const got = await readTensor(gpu!, subTensor(out, q * stride, [M, width], `plane ${q}`));
                const want = new Float64Array(M * width);
                for (let m = 0; m < M; m++) for (let c = 0; c < width; c++) want[m * width + c] = ref[m * N + q * width + c]!;
                expectClose(got, want, [M, width], TOL.gemm![dtype], `planes ${s} ${dtype} plane ${q}`);
              }
            } finally {
              alloc.destroyAll();
            }
          });
        }
      }
    }

    it('planes: bad width, stride or a too small out are refused naming them', async () => {
      const rec = (width: number, stride: number, size: number) =>
        runOnce((plan, alloc) => gemm(plan, { x: alloc.tensor([3, 8], 'f32', 'x'), w: alloc.tensor([24, 8], 'f32', 'w'), out: alloc.tensor([size], 'f32', 'qkv'), planes: { width, stride } }));
      await expect(rec(6, 18, 54)).rejects.toThrow(/planes.width 6 must be a multiple of 4 dividing N=24/);
      await expect(rec(8, 20, 64)).rejects.toThrow(/planes.stride 20 is less than rows·width = 24/);
      await expect(rec(8, 64, 150)).rejects.toThrow(/out qkv has 150 elements, 3 planes of \[3, 8\] at stride 64 need 152/);
    });
  });

  it('rejects mismatched shapes with a message naming the tensor', async () => {
    await expect(runOnce((plan, alloc) => gemm(plan, { x: alloc.tensor([2, 8], 'f32', 'x'), w: alloc.tensor([5, 7], 'f32', 'w'), out: alloc.tensor([2, 5], 'f32', 'y') }))).rejects.toThrow(/w has K=7, x x has K=8/);
    await expect(runOnce((plan, alloc) => gemm(plan, { x: alloc.tensor([2, 8], 'f32', 'x'), w: alloc.tensor([5, 8], 'f32', 'w'), out: alloc.tensor([2, 4], 'f32', 'y') }))).rejects.toThrow(/last dim 4 ≠ N=5/);
    await expect(runOnce((plan, alloc) => gemm(plan, { x: alloc.tensor([2, 8], 'f32', 'x'), w: alloc.tensor([5, 8], 'f32', 'w'), out: alloc.tensor([2, 5], 'f32', 'y'), bias: alloc.tensor([4], 'f32', 'b') }))).rejects.toThrow(/bias b has 4 elements, expected 5/);
    await expect(runOnce((plan, alloc) => gemm(plan, { x: alloc.tensor([2, 8], 'f32', 'x'), w: alloc.tensor([5, 8], 'f32', 'w'), out: alloc.tensor([2, 5], 'f32', 'y'), gate: { mod: alloc.tensor([30], 'f32', 'mod'), stride: 30, offset: 0, tokens: 2 } }))).rejects.toThrow(/gate requires residual/);
    await expect(runOnce((plan, alloc) => gemm(plan, { x: alloc.tensor([2, 8], 'f32', 'x'), w: alloc.tensor([5, 8], 'f32', 'w'), out: alloc.tensor([2, 5], 'f32', 'y'), tile: { TN: 2 } }))).rejects.toThrow(/TN=2/);
    const small = (tile: Record<string, number>) => runOnce((plan, alloc) => gemm(plan, { x: alloc.tensor([2, 8], 'f32', 'x'), w: alloc.tensor([5, 8], 'f32', 'w'), out: alloc.tensor([2, 5], 'f32', 'y'), tile }));
    await expect(small({ TM: 4, SC: 2 })).rejects.toThrow(/mixes knobs/);
    await expect(small({ QQ: 1 })).rejects.toThrow(/unknown tile knob QQ/);
    if (hasSG) {
      await expect(small({ SG: 1, SR: 4 })).rejects.toThrow(/SR=4/);
      await expect(small({ SG: 1, SC: 5 })).rejects.toThrow(/SC=5/);
      await expect(small({ SG: 1, TM: 4 })).rejects.toThrow(/tiled kernel knobs/);
      await expect(small({ SG: 1, KC: 96 })).rejects.toThrow(/KC=96: K=8 has no compiled-in-K variant/);
      const k384 = (tile: Record<string, number>) => runOnce((plan, alloc) => gemm(plan, { x: alloc.tensor([2, 384], 'f32', 'x'), w: alloc.tensor([5, 384], 'f32', 'w'), out: alloc.tensor([2, 5], 'f32', 'y'), tile }));
      await expect(k384({ SG: 1, KC: 288 })).rejects.toThrow(/KC=288 compiles in K=1152, the call's is 384/);
    }
    await expect(small({ SG: 0, SR: 8 })).rejects.toThrow(/SG kernel, which is off/);
    await expect(small({ TM: 2 })).rejects.toThrow(/TM=2: must be 4 or 8/);
    await expect(small({ GEMV: 1, MR: 3 })).rejects.toThrow(/MR=3/);
    await expect(small({ WG: 256, MR: 8 })).rejects.toThrow(/33792 bytes of workgroup memory/);
    await expect(small({ WGX: 16, TM: 4, MR: 2 })).rejects.toThrow(/mixes knobs of the tiled and gemv kernels/);
    await expect(small({ TM: 8, TN: 8, WGX: 8, WGY: 8, BK: 16 })).rejects.toThrow(/more than 2 prefetch registers/);
  });
});
