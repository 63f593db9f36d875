// Linear layer Y = X·Wᵀ + b with fused activation and (gated) residual (kernels/gemm.wgsl).
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan } from '../gpu/plan.js';
import { bytesPer, shapeStr, type Tensor } from '../gpu/tensor.js';
import { ceilDiv, checkDtypes, dtypeFlags, rowsCols } from './util.js';

export const gemmKernel = defineKernel({
  name: 'gemm',
  prelude: ['common/dtype'],
  flags: {
    F16: [false, true],
    VEC4: [false, true],
    BIAS: [false, true],
    GELU: [false, true],
    SILU: [false, true],
    RESIDUAL: [false, true],
    GATE: [false, true],
    SG: [false, true],
  },
  // First value = default, picked by measurement on lavapipe (see the kernel header).
  // Every single deviation from the defaults stays within 16 KiB and 256 invocations.
  overrides: {
    WGX: [8, 4, 16],
    WGY: [16, 4, 8],
    TM: [8, 1, 2, 4],
    TN: [8, 4],
    BK: [16, 4, 8],
    SWG: [64, 32, 128, 8],
    SR: [16, 8],
    SC: [4, 1, 2, 3],
  },
  bindings: ['uniform', 'read', 'read', 'read', 'read', 'rw'],
  needs: { F16: 'shader-f16', SG: 'subgroups' },
  // one activation at a time; a gate only scales a residual update
  valid: (f) => !(f.GELU && f.SILU) && (!f.GATE || !!f.RESIDUAL),
});

export interface GemmArgs {
  x: Tensor; // [..., K]
  w: Tensor; // [N, K]  (PyTorch nn.Linear weight layout)
  bias?: Tensor; // [N]
  out: Tensor; // [..., N]  (same leading dims as x); in residual mode also the residual input
  act?: 'none' | 'gelu' | 'silu';
  residual?: boolean; // out += (gate ⊙) Y  instead of out = Y
  gate?: { mod: Tensor; stride: number; offset: number; tokens: number }; // requires residual
  layer?: string;
  tile?: Partial<Record<string, number>>; // override knobs for benchmarking/autotuning
}

const MAX_WG_BYTES = 16384;
const MAX_INVOCATIONS = 256;
const MAX_TM = 8; // register arrays in the kernel hold up to 8 rows per invocation

/** Subgroups usable by the SG kernel: the feature, and every subgroup has ≥ 8 lanes (it broadcasts from lanes 0..7). */
function subgroupsOf8(plan: Plan): boolean {
  const info = (plan.gpu.device as unknown as { adapterInfo?: { subgroupMinSize?: number } }).adapterInfo;
  return plan.gpu.subgroups && (info?.subgroupMinSize ?? 0) >= 8;
}

/** out = act(x·wᵀ + bias), or out += (gate ⊙) act(x·wᵀ + bias) with `residual`. Returns out. */
export function gemm(plan: Plan, a: GemmArgs): Tensor {
  const { rows: M, cols: K } = rowsCols(a.x, 'gemm x');
  if (a.w.shape.length !== 2) throw new Error(`gemm: w ${a.w.label} must be [N, K], got ${shapeStr(a.w.shape)}`);
  const [N, wK] = a.w.shape as [number, number];
  if (wK !== K) throw new Error(`gemm: w ${a.w.label} has K=${wK}, x ${a.x.label} has K=${K}`);
  const { rows: oM, cols: oN } = rowsCols(a.out, 'gemm out');
  if (oN !== N) throw new Error(`gemm: out ${a.out.label} last dim ${oN} ≠ N=${N} of w`);
  if (oM !== M) throw new Error(`gemm: out ${a.out.label} has ${oM} rows, x ${a.x.label} has ${M}`);
  const lead = (t: Tensor) => t.shape.slice(0, -1).join(',');
  if (lead(a.out) !== lead(a.x)) throw new Error(`gemm: out ${shapeStr(a.out.shape)} leading dims ≠ x ${shapeStr(a.x.shape)}`);
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
  const act = a.act ?? 'none';

  // Variant: SG (one invocation per output column, rows shared by subgroup broadcast; measured
  // 4–10× faster on lavapipe, see the kernel header) when the adapter has subgroups of ≥ 8
  // lanes, unless the caller turns it off (tile.SG = 0) or sets a knob of the tiled kernel.
  const tile = a.tile ?? {};
  const known = [...Object.keys(gemmKernel.overrides), 'SG'];
  for (const k of Object.keys(tile)) {
    if (tile[k] !== undefined && !known.includes(k)) throw new Error(`gemm: unknown tile knob ${k} (known: ${known.join(', ')})`);
  }
  const tiledKnobs = ['WGX', 'WGY', 'TM', 'TN', 'BK'].some((k) => tile[k] !== undefined);
  const sgKnobs = ['SWG', 'SR', 'SC'].some((k) => tile[k] !== undefined);
  if (tiledKnobs && sgKnobs) throw new Error('gemm: tile mixes knobs of the tiled kernel (WGX, WGY, TM, TN, BK) and of the SG kernel (SWG, SR, SC)');
  const sgOk = subgroupsOf8(plan);
  if (tile.SG === 1 && !sgOk) throw new Error('gemm: tile SG=1 needs the subgroups feature with subgroups of at least 8 lanes');
  const SG = tile.SG === undefined ? sgOk && !tiledKnobs : tile.SG !== 0;
  if (SG && tiledKnobs) throw new Error('gemm: tile SG=1 does not use the tiled kernel knobs (WGX, WGY, TM, TN, BK)');
  if (!SG && sgKnobs) throw new Error('gemm: knobs SWG, SR, SC belong to the SG kernel, which is off here');

  const overrides: Record<string, number> = {};
  if (SG) {
    // 16 rows per workgroup halve the W gathers per FMA; up to 128 rows, 8 rows give twice
    // the workgroups and waste less on a partial last tile (measured: M ≤ 8 1.8×, M = 64 ~1.2×).
    if (tile.SR === undefined && M <= 128) overrides.SR = 8;
    // Columns per workgroup SWG·SC: 4 per invocation where N allows, with the workgroup width
    // that pads N least (lanes past N compute a clamped copy). Measured: N=1152 SWG 32 1.3× 64;
    // N=96 8×4 columns 2.4× 64×4.
    if (tile.SWG === undefined && tile.SC === undefined) {
      let best: [number, number] = [64, 4];
      for (const c of [[64, 4], [32, 4], [8, 4], [8, 3], [8, 2], [8, 1]] as const) {
        const pad = (cols: number) => ceilDiv(N, cols) * cols;
        if (pad(c[0] * c[1]) < pad(best[0] * best[1])) best = [c[0], c[1]];
      }
      Object.assign(overrides, { SWG: best[0], SC: best[1] });
    }
  } else if (tile.TM === undefined && tile.WGY === undefined) {
    // Few rows (modulation, timestep MLP, short sequences): a 128-row tile would be mostly
    // padding, so shrink BM unless the caller chose the row tiling (measured on lavapipe:
    // M=16 4.6× and M=2 6.5× faster than the default tile).
    if (M <= 4) Object.assign(overrides, { TM: 1, WGY: 4 });
    else if (M <= 32) Object.assign(overrides, { TM: 4, WGY: 4 });
    else if (M <= 64) Object.assign(overrides, { TM: 4, WGY: 16 });
  }
  for (const k of Object.keys(tile)) {
    if (tile[k] === undefined || k === 'SG') continue;
    overrides[k] = tile[k]!;
  }
  const t = (k: string) => overrides[k] ?? gemmKernel.overrides[k]![0]!;
  let tilesN: number;
  let tilesM: number;
  if (SG) {
    const [SWG, SR, SC] = [t('SWG'), t('SR'), t('SC')];
    if (SR !== 8 && SR !== 16) throw new Error(`gemm: SR=${SR}: must be 8 or 16 (rows come in subgroup broadcasts of 8)`);
    if (!Number.isInteger(SC) || SC < 1 || SC > 4) throw new Error(`gemm: SC=${SC}: must be 1..4`);
    if (!Number.isInteger(SWG) || SWG < 8 || SWG > MAX_INVOCATIONS) throw new Error(`gemm: SWG=${SWG}: must be 8..${MAX_INVOCATIONS}`);
    tilesN = ceilDiv(N, SWG * SC);
    tilesM = ceilDiv(M, t('SR'));
  } else {
    const [WGX, WGY, TM, TN, BK] = [t('WGX'), t('WGY'), t('TM'), t('TN'), t('BK')];
    const BM = WGY * TM;
    const BN = WGX * TN;
    if (TM < 1 || TM > MAX_TM) throw new Error(`gemm: TM=${TM}: must be 1..${MAX_TM}`);
    if (TN !== 4 && TN !== 8) throw new Error(`gemm: TN=${TN}: must be 4 or 8 (one or two vec4 per row)`);
    if (BK % 4 !== 0) throw new Error(`gemm: BK=${BK}: must be a multiple of 4`);
    if (WGX * WGY > MAX_INVOCATIONS) throw new Error(`gemm: workgroup ${WGX}×${WGY} has ${WGX * WGY} invocations, limit ${MAX_INVOCATIONS}`);
    if ((BM + BN) * BK * 4 > MAX_WG_BYTES) throw new Error(`gemm: tiles BM=${BM} BN=${BN} BK=${BK} need ${(BM + BN) * BK * 4} bytes of workgroup memory, limit ${MAX_WG_BYTES}`);
    tilesN = ceilDiv(N, BN);
    tilesM = ceilDiv(M, BM);
  }

  const bp = bytesPer(a.x.dtype);
  plan.record({
    spec: gemmKernel,
    variant: {
      flags: {
        ...dtypeFlags(a.x),
        VEC4: K % 4 === 0,
        BIAS: !!a.bias,
        GELU: act === 'gelu',
        SILU: act === 'silu',
        RESIDUAL: !!a.residual,
        GATE: !!g,
        SG,
      },
      overrides,
    },
    uniforms: [
      ['M', 'u32', M],
      ['N', 'u32', N],
      ['K', 'u32', K],
      ['tokens', 'u32', g?.tokens ?? Math.max(1, M)],
      ['gate_stride', 'u32', g?.stride ?? 0],
      ['gate_off', 'u32', g?.offset ?? 0],
      ['tiles_n', 'u32', tilesN],
      ['tiles_m', 'u32', tilesM],
    ],
    buffers: [a.x, a.w, a.bias ?? plan.dummy, g?.mod ?? plan.dummy, a.out],
    workgroups: grid1D(plan.gpu, tilesN * tilesM),
    layer: a.layer,
    shapes: `x${shapeStr(a.x.shape)} w${shapeStr(a.w.shape)}`,
    // 2·M·N·K multiply-adds, plus the epilogue per output: bias 1, GELU ~8, SiLU ~4,
    // residual 1, gate 1. Bytes: x and w once each (tiles re-read from cache are not counted),
    // out written (and read in residual mode), bias, one gate vector per batch item.
    flops:
      2 * M * N * K +
      M * N * ((a.bias ? 1 : 0) + (act === 'gelu' ? 8 : act === 'silu' ? 4 : 0) + (a.residual ? 1 : 0) + (g ? 1 : 0)),
    bytes: (M * K + N * K + M * N * (a.residual ? 2 : 1) + (a.bias ? N : 0) + (g ? (M / g.tokens) * N : 0)) * bp,
  });
  return a.out;
}
