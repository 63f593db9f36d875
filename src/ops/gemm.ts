// Linear layer Y = X·Wᵀ + b with fused activation and (gated) residual. Three kernels implement
// it (bindings and epilogue shared, kernels/common/gemm_io.wgsl):
//   gemm_tiled     workgroup-memory tiles, vec4 reads, register prefetch (GPUs; no subgroups needed)
//   gemm_subgroup  lanes own columns, X rows by subgroup broadcast (measured fastest on lavapipe)
//   gemm_gemv      few rows: lanes split K, tree reduction (modulation, timestep, short inputs)
// Which one runs is a *strategy* (a name such as `tiled-128`), chosen per (adapter, shape bucket)
// by the tuner (src/gpu/tune.ts) when a cached or measured choice exists, else by the adapter
// policy's heuristic (src/gpu/policy.ts): never a CPU-tuned strategy on a GPU adapter.
import { defineKernel, type KernelSpec, type Variant } from '../gpu/kernel.js';
import { grid1D, type Plan, type RecordArgs } from '../gpu/plan.js';
import { cpuTunedVariantsOk, subgroupsOf8 } from '../gpu/policy.js';
import '../gpu/tune.js'; // registers the tuner with Plan (recordTuned below)
import { bytesPer, shapeStr, type DType, type Tensor } from '../gpu/tensor.js';
import { ceilDiv, checkDtypes, rowsCols } from './util.js';

const GEMM_FLAGS = {
  F16: [false, true],
  VEC4: [false, true],
  BIAS: [false, true],
  GELU: [false, true],
  SILU: [false, true],
  RESIDUAL: [false, true],
  GATE: [false, true],
} as const;
// one activation at a time; a gate only scales a residual update
const gemmValid = (f: Record<string, boolean>) => !(f.GELU && f.SILU) && (!f.GATE || !!f.RESIDUAL);
const GEMM_BINDINGS = ['uniform', 'read', 'read', 'read', 'read', 'rw'] as const;
const GEMM_NEEDS = { F16: 'shader-f16' } as const;

/** One GEMM kernel file: shared flags, bindings and prelude (common/gemm_io.wgsl). */
const gemmSpec = (name: string, overrides: Record<string, readonly number[]>, extra: Partial<KernelSpec> = {}): KernelSpec =>
  defineKernel({ name, family: 'gemm', prelude: ['common/dtype', 'common/gemm_io'], flags: GEMM_FLAGS, overrides, bindings: GEMM_BINDINGS, needs: GEMM_NEEDS, valid: gemmValid, ...extra });

/** Workgroup-memory tiles (kernels/gemm_tiled.wgsl). First override value = default. */
export const gemmTiledKernel = gemmSpec('gemm_tiled', { WGX: [16, 8], WGY: [16, 8], TM: [8, 4], TN: [8, 4], BK: [8, 16] });

/**
 * K/4 values with a compiled-in-K variant of the subgroup kernel (tuning candidate
 * subgroup-sr16-k): the K of the DiT-S/Wan blocks' projections and FFNs (384, 1152, 1536, 4608).
 */
const GEMM_KC = [96, 288, 384, 1152] as const;

/** Subgroup broadcast of X rows (kernels/gemm_subgroup.wgsl); subgroups of ≥ 8 lanes. KC: K/4 compiled in (0: runtime). */
export const gemmSubgroupKernel = gemmSpec('gemm_subgroup', { SWG: [64, 32, 128, 8], SR: [16, 8, 32], SC: [4, 1, 2, 3], KC: [0, ...GEMM_KC] }, { requires: ['subgroups'] });

/** The K values the subgroup kernel has a compiled-in-K variant for (GEMM_KC·4), ascending. */
export const GEMM_COMPILED_K: readonly number[] = GEMM_KC.map((kc) => kc * 4);

/** Whether the subgroup kernel has a variant with this K compiled in (a multiple of 4 in GEMM_KC·4). */
export function gemmKcOk(K: number): boolean {
  return K % 4 === 0 && (GEMM_KC as readonly number[]).includes(K / 4);
}

/** Few rows, K split over the workgroup (kernels/gemm_gemv.wgsl). */
export const gemmGemvKernel = gemmSpec('gemm_gemv', { WG: [64, 128], MR: [8, 1, 2, 4] });

export interface GemmArgs {
  x: Tensor; // [..., K]
  w: Tensor; // [N, K]  (PyTorch nn.Linear weight layout)
  bias?: Tensor; // [N]
  out: Tensor; // [..., N]  (same leading dims as x); in residual mode also the residual input
  act?: 'none' | 'gelu' | 'silu';
  residual?: boolean; // out += (gate ⊙) Y  instead of out = Y
  gate?: { mod: Tensor; stride: number; offset: number; tokens: number }; // requires residual
  /**
   * Split the output into planes (a fused projection, e.g. q|k|v): output column n goes to plane
   * ⌊n / width⌋, a [rows, width] block at element `stride`·⌊n / width⌋ of `out`, so each part is
   * a contiguous tensor of its own (subTensor). `out` is then the whole buffer, any shape, with at
   * least (N/width − 1)·stride + rows·width elements. width: a multiple of 4 dividing N; stride
   * ≥ rows·width.
   */
  planes?: { width: number; stride: number };
  /**
   * Only the first `itemRows` rows of each item: x [B, L, K] and out [B, L, N] (rank 3), item b's
   * rows at b·L, 1 ≤ itemRows ≤ L; one dispatch over the B items (the grid's z), out's other rows
   * left as they are. The tuner's bucket and the strategy count B·itemRows rows. Not with planes
   * or gate. (Wan's prepare plan: the text rows the cross-attention reads, model/wan.ts.)
   */
  itemRows?: number;
  layer?: string;
  /**
   * Fix the kernel and knobs (benchmarks, tests; no tuning): SG=1 the subgroup kernel (knobs
   * SWG, SR, SC, KC = K/4 compiled in), SG=0 the tiled kernel (WGX, WGY, TM, TN, BK), GEMV=1 the few-rows kernel (WG, MR);
   * knobs alone select their kernel.
   */
  tile?: Partial<Record<string, number>>;
  /** Fix the strategy by name (see GEMM_CANDIDATES: a strategy or a tuner candidate); no tuning. */
  strategy?: GemmCandidate;
}

const MAX_WG_BYTES = 16384;
const MAX_INVOCATIONS = 256;

/** The strategies the tuner chooses among; each derives its knobs from the exact shape. */
export const GEMM_STRATEGIES = ['subgroup-sr16', 'subgroup-sr8', 'tiled-128', 'tiled-64', 'gemv'] as const;
export type GemmStrategy = (typeof GEMM_STRATEGIES)[number];
/**
 * What the tuner chooses among: a strategy, or `subgroup-sr16-k`, subgroup-sr16 with K compiled
 * in where GEMM_KC declares it (else the same as subgroup-sr16; by hand: tile knob KC = K/4), or
 * `subgroup-sr32` / `subgroup-sr32-k`, the same with 32 rows per workgroup (each W load reused by
 * 32 rows; by hand: tile knob SR = 32), or `subgroup-sr32-swg32` / `subgroup-sr32-swg32-k`, those
 * with 32 lanes × 4 columns per workgroup whatever N (by hand: SWG = 32, SC = 4), where the
 * others take the width from N (subgroupColumns: 64 lanes where that pads N no more than 32).
 */
export type GemmCandidate = GemmStrategy | 'subgroup-sr16-k' | 'subgroup-sr32' | 'subgroup-sr32-k' | 'subgroup-sr32-swg32' | 'subgroup-sr32-swg32-k';
/** Every name `GemmArgs.strategy` takes: the strategies and the tuner's subgroup variants (what `tessera info` and the tuning cache name). */
export const GEMM_CANDIDATES: readonly GemmCandidate[] = [...GEMM_STRATEGIES, 'subgroup-sr32', 'subgroup-sr16-k', 'subgroup-sr32-k', 'subgroup-sr32-swg32', 'subgroup-sr32-swg32-k'];

type KernelKind = 'tiled' | 'subgroup' | 'gemv';
const SPECS: Record<KernelKind, KernelSpec> = { tiled: gemmTiledKernel, subgroup: gemmSubgroupKernel, gemv: gemmGemvKernel };
const KNOBS: Record<KernelKind, string[]> = { tiled: ['WGX', 'WGY', 'TM', 'TN', 'BK'], subgroup: ['SWG', 'SR', 'SC', 'KC'], gemv: ['WG', 'MR'] };

interface Choice {
  kind: KernelKind;
  knobs: Record<string, number>;
}

const nextPow2 = (v: number) => 2 ** Math.ceil(Math.log2(Math.max(1, v)));

/**
 * Columns per subgroup workgroup SWG·SC: 4 per invocation where N allows, with the width that pads N least
 * (64 lanes on a tie). What the subgroup strategies use, but for the -swg32 candidates.
 */
export function subgroupColumns(N: number): { SWG: number; SC: number } {
  // Measured on lavapipe: N=1152 SWG 32 1.3× 64; N=96 8×4 columns 2.4× 64×4.
  let best: [number, number] = [64, 4];
  for (const c of [[64, 4], [32, 4], [8, 4], [8, 3], [8, 2], [8, 1]] as const) {
    const pad = (cols: number) => ceilDiv(N, cols) * cols;
    if (pad(c[0] * c[1]) < pad(best[0] * best[1])) best = [c[0], c[1]];
  }
  return { SWG: best[0], SC: best[1] };
}

/** Kernel and knobs of a strategy (or tuning candidate) at one shape. */
function strategyChoice(s: GemmCandidate, M: number, N: number, K: number): Choice {
  switch (s) {
    case 'subgroup-sr16':
      return { kind: 'subgroup', knobs: { SR: 16, ...subgroupColumns(N) } };
    case 'subgroup-sr16-k':
      return { kind: 'subgroup', knobs: { SR: 16, ...subgroupColumns(N), ...(gemmKcOk(K) ? { KC: K / 4 } : {}) } };
    case 'subgroup-sr32':
      return { kind: 'subgroup', knobs: { SR: 32, ...subgroupColumns(N) } };
    case 'subgroup-sr32-k':
      return { kind: 'subgroup', knobs: { SR: 32, ...subgroupColumns(N), ...(gemmKcOk(K) ? { KC: K / 4 } : {}) } };
    case 'subgroup-sr32-swg32':
      return { kind: 'subgroup', knobs: { SR: 32, SWG: 32, SC: 4 } };
    case 'subgroup-sr32-swg32-k':
      return { kind: 'subgroup', knobs: { SR: 32, SWG: 32, SC: 4, ...(gemmKcOk(K) ? { KC: K / 4 } : {}) } };
    case 'subgroup-sr8':
      return { kind: 'subgroup', knobs: { SR: 8, ...subgroupColumns(N) } };
    case 'tiled-128':
      return { kind: 'tiled', knobs: { WGX: 16, WGY: 16, TM: 8, TN: 8, BK: 8 } };
    case 'tiled-64':
      return { kind: 'tiled', knobs: { WGX: 16, WGY: 16, TM: 4, TN: 4, BK: 16 } };
    case 'gemv':
      // 8 rows per workgroup whatever M (fewer rows are clamped copies: W reads dominate, and one
      // MR keeps the variants, and lavapipe's compile time, down); 64 lanes (MR 8 with 128 lanes
      // would need 16.5 KiB of workgroup memory, over the 16 KiB every adapter has).
      void M;
      void K;
      return { kind: 'gemv', knobs: { MR: 8, WG: 64 } };
  }
}

/** Strategies that can run on this adapter. */
export function gemmStrategiesFor(gpu: Plan['gpu']): GemmStrategy[] {
  return GEMM_STRATEGIES.filter((s) => !s.startsWith('subgroup') || subgroupsOf8(gpu));
}

/** Every strategy name (GEMM_CANDIDATES) that can run on this adapter: the subgroup ones need subgroups of ≥ 8 lanes. */
export function gemmCandidatesFor(gpu: Plan['gpu']): GemmCandidate[] {
  return GEMM_CANDIDATES.filter((s) => !s.startsWith('subgroup') || subgroupsOf8(gpu));
}

/**
 * The heuristic strategy (no tuning). CPU adapters: the subgroup kernel as measured on lavapipe
 * (8 rows per workgroup up to M = 128: more workgroups, less padding; M ≤ 8 1.8×, M = 64 ~1.2×),
 * else the 64-tile kernel. GPU adapters: never a CPU-tuned strategy: gemv for M ≤ 8, 64-tiles
 * while either side is small, 128-tiles for large products.
 */
export function gemmHeuristic(gpu: Plan['gpu'], M: number, N: number): GemmStrategy {
  if (cpuTunedVariantsOk(gpu)) {
    if (subgroupsOf8(gpu)) return M <= 128 ? 'subgroup-sr8' : 'subgroup-sr16';
    return 'tiled-64';
  }
  if (M <= 8) return 'gemv';
  return M >= 512 && N >= 512 ? 'tiled-128' : 'tiled-64';
}

/**
 * The strategies worth timing for one shape (the heuristic first): at most four. CPU adapters that
 * pick subgroup-sr16 also time it with 32 rows per workgroup (subgroup-sr32, ×1.05–1.26 on lavapipe
 * at M = 1024, bench/RESULTS.md "Attention and GEMM loads on lavapipe") and, with `K`, both with K
 * compiled in (subgroup-sr16-k, subgroup-sr32-k) where a variant for K exists (×1.15–1.38 on
 * lavapipe, bench/RESULTS.md "GEMM — compile-time K"); the tiled kernels then drop out of the four.
 * Where N gives those 64 lanes per workgroup (a multiple of 256, or padded alike at 128 columns), the
 * same with 32 lanes (subgroup-sr32-swg32[-k]: twice the workgroups, X re-read twice as often)
 * takes subgroup-sr16-k's place, or a tiled kernel's. It rarely wins on lavapipe (bench/RESULTS.md
 * session 18, paired A/B against 64 lanes: ff.0 alone 1024×384×1536 0.976× the time at load ~19 but
 * 1.27× at load ~12, 0.98–1.02× in the DiT-S block, 1.43× at DiT-XL's 1024×1152×4608; session 17's
 * 0.69–0.88× did not repeat): it is a candidate so that a machine where it does win can pick it.
 */
export function gemmCandidates(gpu: Plan['gpu'], M: number, N: number, K?: number): GemmCandidate[] {
  const ok: GemmCandidate[] = gemmStrategiesFor(gpu);
  const h = gemmHeuristic(gpu, M, N);
  const want: GemmCandidate[] = [h];
  if (h === 'subgroup-sr16') {
    const kc = K !== undefined && gemmKcOk(K);
    const wide = subgroupColumns(N).SWG === 64;
    const more: GemmCandidate[] = ['subgroup-sr32'];
    if (kc) more.push(...(wide ? (['subgroup-sr32-k', 'subgroup-sr32-swg32-k', 'subgroup-sr16-k'] as const) : (['subgroup-sr16-k', 'subgroup-sr32-k'] as const)));
    else if (wide) more.push('subgroup-sr32-swg32');
    want.push(...more);
    ok.push(...more);
  }
  if (M <= 16) want.push('gemv');
  if (subgroupsOf8(gpu)) want.push(M <= 128 ? 'subgroup-sr8' : 'subgroup-sr16');
  want.push(M >= 256 ? 'tiled-128' : 'tiled-64', 'tiled-64');
  return [...new Set(want)].filter((s) => ok.includes(s)).slice(0, 4);
}

/**
 * Shape bucket of the tuning cache: dtype, K % 4, rows up to 8 exactly, then powers of two, and the
 * subgroup strategies' columns per workgroup at this N (subgroupColumns: ` SWG64x4`), so that two
 * shapes whose subgroup candidates differ in width (N 1152: 32 lanes, N 1536: 64) never share a
 * decision. Every key ends in that part since session 18: a cached entry keyed without it (tuned
 * on whichever N came first) matches no call, and is re-tuned rather than misread; loading and saving
 * the cache drop such entries (tune.ts staleTuneKey).
 */
export function gemmBucket(dtype: DType, M: number, N: number, K: number): string {
  const { SWG, SC } = subgroupColumns(N);
  return `${dtype} M${M <= 8 ? M : nextPow2(M)} N${nextPow2(N)} K${nextPow2(K)}${K % 4 === 0 ? '' : ' K%4'} SWG${SWG}x${SC}`;
}

/**
 * Whether `bucket` (the part of a tuning cache key after `gemm|`) is in the form gemmBucket makes now
 * (`f32 M1024 N2048 K512 SWG64x4`, ` K%4` before the SWG part when K is not a multiple of 4); tune.ts
 * staleTuneKey drops cached GEMM entries whose bucket is not (session 17's keys had no SWG part).
 */
export function currentGemmBucket(bucket: string): boolean {
  return /^f(?:16|32) M\d+ N\d+ K\d+(?: K%4)? SWG\d+x\d+$/.test(bucket);
}

/** Choice from explicit `tile` knobs (the pre-tuning interface, kept for tests and benchmarks). */
function choiceFromTile(gpu: Plan['gpu'], tile: Partial<Record<string, number>>, M: number, N: number, K: number): Choice {
  const known = ['SG', 'GEMV', ...KNOBS.tiled, ...KNOBS.subgroup, ...KNOBS.gemv];
  for (const k of Object.keys(tile)) {
    if (tile[k] !== undefined && !known.includes(k)) throw new Error(`gemm: unknown tile knob ${k} (known: ${known.join(', ')})`);
  }
  const given = (kind: KernelKind) => KNOBS[kind].some((k) => tile[k] !== undefined);
  const kinds = (['tiled', 'subgroup', 'gemv'] as const).filter(given);
  if (kinds.length > 1) {
    throw new Error(`gemm: tile mixes knobs of the ${kinds.join(' and ')} kernels (tiled: ${KNOBS.tiled.join(', ')}; subgroup: ${KNOBS.subgroup.join(', ')}; gemv: ${KNOBS.gemv.join(', ')})`);
  }
  const sgOk = subgroupsOf8(gpu);
  if (tile.SG === 1 && !sgOk) throw new Error('gemm: tile SG=1 needs the subgroups feature with subgroups of at least 8 lanes');
  if (tile.SG === 1 && tile.GEMV === 1) throw new Error('gemm: tile SG=1 and GEMV=1 name different kernels');
  let kind: KernelKind;
  if (tile.GEMV === 1) kind = 'gemv';
  else if (tile.SG === 1) kind = 'subgroup';
  else if (tile.SG === 0) kind = kinds[0] === 'gemv' ? 'gemv' : 'tiled';
  else kind = kinds[0] ?? (subgroupsOf8(gpu) && cpuTunedVariantsOk(gpu) ? 'subgroup' : 'tiled');
  if (kinds[0] && kinds[0] !== kind) {
    const off = kind === 'subgroup' ? 'SG=1' : kind === 'gemv' ? 'GEMV=1' : 'SG=0';
    if (kinds[0] === 'subgroup') throw new Error(`gemm: knobs ${KNOBS.subgroup.join(', ')} belong to the SG kernel, which is off here (${off})`);
    throw new Error(`gemm: tile ${off} does not use the ${kinds[0]} kernel knobs (${KNOBS[kinds[0]].join(', ')})`);
  }
  if (kind === 'subgroup' && !sgOk) throw new Error('gemm: the subgroup kernel needs the subgroups feature with subgroups of at least 8 lanes');
  // Defaults: the strategy's knobs at this shape, then the caller's.
  const base =
    kind === 'subgroup' ? strategyChoice(M <= 128 ? 'subgroup-sr8' : 'subgroup-sr16', M, N, K) : kind === 'gemv' ? strategyChoice('gemv', M, N, K) : strategyChoice(M >= 256 ? 'tiled-128' : 'tiled-64', M, N, K);
  const knobs = { ...base.knobs };
  // SWG and SC are picked together from N's padding: a caller's one fixes the other at its default.
  if (kind === 'subgroup' && (tile.SWG !== undefined || tile.SC !== undefined)) Object.assign(knobs, { SWG: 64, SC: 4 });
  for (const k of KNOBS[kind]) if (tile[k] !== undefined) knobs[k] = tile[k]!;
  if (knobs.KC) {
    if (!gemmKcOk(K)) throw new Error(`gemm: tile KC=${knobs.KC}: K=${K} has no compiled-in-K variant (K/4 one of ${GEMM_KC.join(', ')})`);
    if (knobs.KC * 4 !== K) throw new Error(`gemm: tile KC=${knobs.KC} compiles in K=${knobs.KC * 4}, the call's is ${K}`);
  }
  return { kind, knobs };
}

/** Throws when knobs are out of range; returns the output tiles [along N, along M]. */
function tilesOf(c: Choice, M: number, N: number, bp: number): [number, number] {
  const k = c.knobs;
  if (c.kind === 'subgroup') {
    const { SWG, SR, SC } = k as { SWG: number; SR: number; SC: number };
    if (SR !== 8 && SR !== 16 && SR !== 32) throw new Error(`gemm: SR=${SR}: must be 8, 16 or 32 (rows come in subgroup broadcasts of 8)`);
    if (!Number.isInteger(SC) || SC < 1 || SC > 4) throw new Error(`gemm: SC=${SC}: must be 1..4`);
    if (!Number.isInteger(SWG) || SWG < 8 || SWG > MAX_INVOCATIONS) throw new Error(`gemm: SWG=${SWG}: must be 8..${MAX_INVOCATIONS}`);
    return [ceilDiv(N, SWG * SC), ceilDiv(M, SR)];
  }
  if (c.kind === 'gemv') {
    const { WG, MR } = k as { WG: number; MR: number };
    if (![1, 2, 4, 8].includes(MR)) throw new Error(`gemm: MR=${MR}: must be 1, 2, 4 or 8`);
    if (!Number.isInteger(Math.log2(WG)) || WG < 4 || WG > MAX_INVOCATIONS) throw new Error(`gemm: WG=${WG}: must be a power of two, 4..${MAX_INVOCATIONS}`);
    if ((MR * 4 + 1) * WG * 4 > MAX_WG_BYTES) throw new Error(`gemm: MR=${MR} WG=${WG} need ${(MR * 4 + 1) * WG * 4} bytes of workgroup memory, limit ${MAX_WG_BYTES}`);
    return [ceilDiv(N, 4), ceilDiv(M, MR)];
  }
  const { WGX, WGY, TM, TN, BK } = k as { WGX: number; WGY: number; TM: number; TN: number; BK: number };
  const BM = WGY * TM;
  const BN = WGX * TN;
  if (TM !== 4 && TM !== 8) throw new Error(`gemm: TM=${TM}: must be 4 or 8 (one or two row quads per invocation)`);
  if (TN !== 4 && TN !== 8) throw new Error(`gemm: TN=${TN}: must be 4 or 8 (one or two vec4 per row)`);
  if (BK % 4 !== 0 || BK < 4) throw new Error(`gemm: BK=${BK}: must be a multiple of 4`);
  if (WGX * WGY > MAX_INVOCATIONS) throw new Error(`gemm: workgroup ${WGX}×${WGY} has ${WGX * WGY} invocations, limit ${MAX_INVOCATIONS}`);
  const wgBytes = ((BM + BN) * BK * bp);
  if (wgBytes > MAX_WG_BYTES) throw new Error(`gemm: tiles BM=${BM} BN=${BN} BK=${BK} need ${wgBytes} bytes of workgroup memory, limit ${MAX_WG_BYTES}`);
  // The kernel's prefetch registers hold 2 vec4 per matrix per invocation.
  if (Math.max(BM, BN) * (BK / 4) > 2 * WGX * WGY) throw new Error(`gemm: tiles BM=${BM} BN=${BN} BK=${BK} need more than 2 prefetch registers per invocation with ${WGX * WGY} invocations (use a smaller BK or more invocations)`);
  return [ceilDiv(N, BN), ceilDiv(M, BM)];
}

/** `gemm_tiled{BK=8,TM=8,...}`-style description of a strategy at a shape (for `tessera info`, reports). */
export function describeGemmStrategy(s: GemmCandidate, M: number, N: number, K: number): string {
  const c = strategyChoice(s, M, N, K);
  return `${SPECS[c.kind].name}{${Object.entries(c.knobs).map(([k, v]) => `${k}=${v}`).join(',')}}`;
}

interface Shape {
  M: number; // rows per item (all rows with one item)
  N: number;
  K: number;
  /** Items (the grid's z) and the elements between them in x and out: GemmArgs.itemRows; 1, 0, 0 otherwise. */
  items: number;
  xItem: number;
  outItem: number;
}

/** Rows the call computes in all: items × rows per item (the tuning bucket's and the strategy's M). */
const allRows = (s: Shape) => s.items * s.M;

function checkArgs(a: GemmArgs): Shape {
  if (a.itemRows !== undefined) return checkItemArgs(a, a.itemRows);
  const { rows: M, cols: K } = rowsCols(a.x, 'gemm x');
  if (a.w.shape.length !== 2) throw new Error(`gemm: w ${a.w.label} must be [N, K], got ${shapeStr(a.w.shape)}`);
  const [N, wK] = a.w.shape as [number, number];
  if (wK !== K) throw new Error(`gemm: w ${a.w.label} has K=${wK}, x ${a.x.label} has K=${K}`);
  const pl = a.planes;
  if (pl) {
    if (!Number.isInteger(pl.width) || pl.width < 4 || pl.width % 4 !== 0 || N % pl.width !== 0) throw new Error(`gemm: planes.width ${pl.width} must be a multiple of 4 dividing N=${N}`);
    if (!Number.isInteger(pl.stride) || pl.stride < M * pl.width) throw new Error(`gemm: planes.stride ${pl.stride} is less than rows·width = ${M * pl.width}`);
    const need = (N / pl.width - 1) * pl.stride + M * pl.width;
    if (a.out.size < need) throw new Error(`gemm: out ${a.out.label} has ${a.out.size} elements, ${N / pl.width} planes of [${M}, ${pl.width}] at stride ${pl.stride} need ${need}`);
  } else {
    const { rows: oM, cols: oN } = rowsCols(a.out, 'gemm out');
    if (oN !== N) throw new Error(`gemm: out ${a.out.label} last dim ${oN} ≠ N=${N} of w`);
    if (oM !== M) throw new Error(`gemm: out ${a.out.label} has ${oM} rows, x ${a.x.label} has ${M}`);
    const lead = (t: Tensor) => t.shape.slice(0, -1).join(',');
    if (lead(a.out) !== lead(a.x)) throw new Error(`gemm: out ${shapeStr(a.out.shape)} leading dims ≠ x ${shapeStr(a.x.shape)}`);
  }
  if (a.bias && a.bias.size !== N) throw new Error(`gemm: bias ${a.bias.label} has ${a.bias.size} elements, expected ${N}`);
  checkDtypes('gemm', a.x, a.w, a.out, a.bias, a.gate?.mod);
  if (a.x.buffer === a.out.buffer || a.w.buffer === a.out.buffer) throw new Error('gemm: out must not alias x or w');
  const g = a.gate;
  if (g && !a.residual) throw new Error('gemm: gate requires residual');
  if (g) {
    if (g.tokens < 1 || M % g.tokens !== 0) throw new Error(`gemm: ${M} rows is not a multiple of gate tokens=${g.tokens}`);
    const need = (M / g.tokens - 1) * g.stride + g.offset + N;
    if (g.mod.size < need) throw new Error(`gemm: gate tensor ${g.mod.label} has ${g.mod.size} elements, needs ${need}`);
  }
  return { M, N, K, items: 1, xItem: 0, outItem: 0 };
}

/** checkArgs for GemmArgs.itemRows: x [B, L, K], out [B, L, N], the first `rows` rows of each item. */
function checkItemArgs(a: GemmArgs, rows: number): Shape {
  if (a.planes || a.gate) throw new Error(`gemm: itemRows does not take ${a.planes ? 'planes' : 'a gate'}`);
  if (a.x.shape.length !== 3 || a.out.shape.length !== 3) throw new Error(`gemm: itemRows needs x [B, L, K] and out [B, L, N], got x ${shapeStr(a.x.shape)}, out ${shapeStr(a.out.shape)}`);
  const [B, L] = a.x.shape as [number, number, number];
  if (!Number.isInteger(rows) || rows < 1 || rows > L) throw new Error(`gemm: itemRows ${rows}, expected an integer in 1..${L} (x ${a.x.label} ${shapeStr(a.x.shape)})`);
  const s = checkArgs({ ...a, itemRows: undefined });
  if (a.out.shape[0] !== B || a.out.shape[1] !== L) throw new Error(`gemm: out ${shapeStr(a.out.shape)} leading dims ≠ x ${shapeStr(a.x.shape)}`);
  return { M: rows, N: s.N, K: s.K, items: B, xItem: B > 1 ? L * s.K : 0, outItem: B > 1 ? L * s.N : 0 };
}

/** A call's epilogue: what its variant's flags encode besides the dtype and K % 4. */
interface Epilogue {
  bias: boolean;
  act: 'none' | 'gelu' | 'silu';
  residual: boolean;
  gate: boolean;
}

function variantOf(dtype: DType, K: number, e: Epilogue, c: Choice): Variant {
  return {
    flags: { F16: dtype === 'f16', VEC4: K % 4 === 0, BIAS: e.bias, GELU: e.act === 'gelu', SILU: e.act === 'silu', RESIDUAL: e.residual, GATE: e.gate },
    overrides: c.knobs,
  };
}

/**
 * The kernel and variant `gemm` dispatches for x [M, K] · w [N, K]ᵀ in `dtype` with this epilogue
 * and `tile` or `strategy` (with neither: the adapter policy's heuristic, what runs untuned, e.g.
 * under TESSERA_TUNE=off), to compile ahead of the first dispatch with `compileKernels`. Output
 * planes take no variant of their own (uniforms). Throws like `gemm` on knobs out of range.
 */
export function gemmVariant(
  gpu: Plan['gpu'],
  a: { M: number; N: number; K: number; dtype: DType; bias?: boolean; act?: Epilogue['act']; residual?: boolean; gate?: boolean; tile?: GemmArgs['tile']; strategy?: GemmCandidate },
): { spec: KernelSpec; variant: Variant } {
  const { M, N, K } = a;
  const c = a.tile && Object.values(a.tile).some((v) => v !== undefined) ? choiceFromTile(gpu, a.tile, M, N, K) : strategyChoice(a.strategy ?? gemmHeuristic(gpu, M, N), M, N, K);
  tilesOf(c, M, N, bytesPer(a.dtype));
  return { spec: SPECS[c.kind], variant: variantOf(a.dtype, K, { bias: !!a.bias, act: a.act ?? 'none', residual: !!a.residual, gate: !!a.gate }, c) };
}

/** The dispatch of `a` with kernel choice `c` (validated). */
function recordArgs(plan: Plan, a: GemmArgs, s: Shape, c: Choice): RecordArgs {
  const { M, N, K, items } = s;
  const g = a.gate;
  const act = a.act ?? 'none';
  const bp = bytesPer(a.x.dtype);
  const [tilesN, tilesM] = tilesOf(c, M, N, bp);
  return {
    spec: SPECS[c.kind],
    variant: variantOf(a.x.dtype, K, { bias: !!a.bias, act, residual: !!a.residual, gate: !!g }, c),
    uniforms: [
      ['M', 'u32', M],
      ['N', 'u32', N],
      ['K', 'u32', K],
      ['tokens', 'u32', g?.tokens ?? Math.max(1, M)],
      ['gate_stride', 'u32', g?.stride ?? 0],
      ['gate_off', 'u32', g?.offset ?? 0],
      ['tiles_n', 'u32', tilesN],
      ['tiles_m', 'u32', tilesM],
      ['split', 'u32', a.planes?.width ?? N],
      ['plane', 'u32', a.planes?.stride ?? 0],
      ['x_item', 'u32', s.xItem],
      ['out_item', 'u32', s.outItem],
    ],
    buffers: [a.x, a.w, a.bias ?? plan.dummy, g?.mod ?? plan.dummy, a.out],
    workgroups: [...grid1D(plan.gpu, tilesN * tilesM).slice(0, 2), items] as [number, number, number],
    layer: a.layer,
    shapes: `x${shapeStr(a.x.shape)}${a.itemRows !== undefined ? `[:${M}]` : ''} w${shapeStr(a.w.shape)}${a.planes ? ` → ${N / a.planes.width}×[${M},${a.planes.width}]` : ''}`,
    // 2·M·N·K multiply-adds, plus the epilogue per output: bias 1, GELU ~8, SiLU ~4,
    // residual 1, gate 1. Bytes: x and w once each (tiles re-read from cache are not counted),
    // out written (and read in residual mode), bias, one gate vector per batch item; x and out per item.
    flops: items * (2 * M * N * K + M * N * ((a.bias ? 1 : 0) + (act === 'gelu' ? 8 : act === 'silu' ? 4 : 0) + (a.residual ? 1 : 0) + (g ? 1 : 0))),
    bytes: (items * (M * K + M * N * (a.residual ? 2 : 1)) + N * K + (a.bias ? N : 0) + (g ? (M / g.tokens) * N : 0)) * bp,
  };
}

/**
 * out = act(x·wᵀ + bias), or out += (gate ⊙) act(x·wᵀ + bias) with `residual`. Returns out.
 * Shapes: x [..., K], w [N, K], bias [N], out [..., N]; f32 or f16 storage (all alike), f32
 * accumulation. Without `tile`/`strategy` the kernel is the tuner's cached choice for this
 * adapter and shape bucket, else the adapter policy's heuristic (and the plan may be tuned
 * before its first run, see src/gpu/tune.ts). Throws on mismatched shapes/dtypes, aliasing, or
 * knobs out of range, naming the tensor or knob.
 */
export function gemm(plan: Plan, a: GemmArgs): Tensor {
  const s = checkArgs(a);
  const { N, K } = s;
  const M = allRows(s);
  if (a.tile && a.strategy) throw new Error('gemm: give tile or strategy, not both');
  if (a.tile && Object.values(a.tile).some((v) => v !== undefined)) {
    plan.record(recordArgs(plan, a, s, choiceFromTile(plan.gpu, a.tile, M, N, K)));
    return a.out;
  }
  if (a.strategy) {
    if (!gemmCandidatesFor(plan.gpu).includes(a.strategy)) throw new Error(`gemm: strategy ${a.strategy} cannot run on this adapter (usable: ${gemmCandidatesFor(plan.gpu).join(', ')})`);
    plan.record(recordArgs(plan, a, s, strategyChoice(a.strategy, M, N, K)));
    return a.out;
  }
  const candidates = gemmCandidates(plan.gpu, M, N, K);
  plan.recordTuned({
    family: 'gemm',
    bucket: gemmBucket(a.x.dtype, M, N, K),
    candidates,
    heuristic: gemmHeuristic(plan.gpu, M, N),
    flops: 2 * M * N * K,
    args: (name) => recordArgs(plan, a, s, strategyChoice(name as GemmCandidate, M, N, K)),
    bench: (p, name) => gemmBenchRecord(p, a, s, name as GemmCandidate),
  });
  return a.out;
}

/**
 * For the tuner: record strategy `name` of this call's shape and epilogue into `p` on fresh
 * seeded inputs in `p.alloc` (rows capped at 4096, so tuning a 30k-token layer stays cheap;
 * the bucket already spans the rest). Returns the output tensor (zero-initialised, so residual
 * variants agree).
 */
function gemmBenchRecord(p: Plan, a: GemmArgs, s: Shape, name: GemmCandidate): Tensor {
  const dtype = a.x.dtype;
  const g = a.gate;
  // Whole batch items for the gate lookup; at least one item.
  const per = g ? g.tokens : 1;
  const { N, K } = s;
  // rows capped at 4096 and so that x and out fit one binding (the real call's may be split)
  const fit = Math.floor(p.gpu.limits.maxStorageBufferBindingSize / (Math.max(K, N) * bytesPer(dtype)));
  const M = Math.max(per, Math.min(allRows(s), Math.floor(Math.min(4096, fit) / per) * per));
  const fill = (n: number, seed: number, scale: number): Float32Array | number[] => {
    if (p.alloc.dry) return []; // tuneScratchBytes' dry run: the upload ignores the data (K·N values for a large layer)
    const out = new Float32Array(n);
    let st = seed >>> 0;
    for (let i = 0; i < n; i++) {
      st = (Math.imul(st, 1664525) + 1013904223) >>> 0;
      out[i] = ((st / 2 ** 32) * 2 - 1) * scale;
    }
    return out;
  };
  const al = p.alloc;
  const x = al.upload(fill(M * K, 1, 1), [M, K], dtype, 'tune:x');
  const w = al.upload(fill(N * K, 2, 1 / Math.sqrt(K)), [N, K], dtype, 'tune:w');
  const bias = a.bias ? al.upload(fill(N, 3, 0.5), [N], dtype, 'tune:bias') : undefined;
  const mod = g ? al.upload(fill((M / per - 1) * g.stride + g.offset + N, 4, 1), [(M / per - 1) * g.stride + g.offset + N], dtype, 'tune:mod') : undefined;
  const out = al.tensor([M, N], dtype, 'tune:out');
  const args: GemmArgs = { x, w, out, act: a.act ?? 'none', residual: !!a.residual, layer: 'tune', ...(bias ? { bias } : {}), ...(g && mod ? { gate: { ...g, mod } } : {}) };
  p.record(recordArgs(p, args, { M, N, K, items: 1, xItem: 0, outItem: 0 }, strategyChoice(name, M, N, K)));
  return out;
}
