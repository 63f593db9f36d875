// Patchify / unpatchify between a latent [B,C,F,H,W] and patch tokens [B,N,K] (kernels/patchify.wgsl).
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan } from '../gpu/plan.js';
import { bytesPer, shapeStr, type Tensor } from '../gpu/tensor.js';
import { ceilDiv, checkDtypes, dtypeFlags } from './util.js';

export const patchifyKernel = defineKernel({
  name: 'patchify',
  prelude: ['common/dtype'],
  flags: { F16: [false, true], UNPATCH: [false, true], CLAST: [false, true] },
  overrides: { WG: [256, 64, 128] },
  bindings: ['uniform', 'read', 'rw'],
  needs: { F16: 'shader-f16' },
});

/**
 * Order of the K = C·pt·ph·pw values inside one token.
 * - 'c-first': (c, kt, kh, kw), c slowest — Conv3d/Conv2d patch-embedding weight order.
 * - 'c-last':  (kt, kh, kw, c), c fastest — diffusers' output heads (Wan, DiT, Latte).
 */
export type PatchOrder = 'c-first' | 'c-last';

export interface PatchifyArgs {
  x: Tensor; // [B,C,F,H,W] (or [B,C,H,W] with pt = 1)
  out: Tensor; // [B, N, C·pt·ph·pw] (any shape with that size and last dim)
  patch: [number, number, number]; // [pt, ph, pw]
  /** Default 'c-first' (patch-embedding weight order). */
  order?: PatchOrder;
  layer?: string;
  wg?: number;
}

export interface UnpatchifyArgs {
  x: Tensor; // [B, N, pt·ph·pw·Cout] (Latte: [(B·F), S, K] is the same memory)
  out: Tensor; // [B,Cout,F,H,W] (or [B,Cout,H,W] with pt = 1): its shape decides the dims
  patch: [number, number, number];
  grid: [number, number, number]; // [F', H', W'], checked against out
  channels: number; // Cout, checked against out
  /** Default 'c-last' (diffusers' output-head order). */
  order?: PatchOrder;
  layer?: string;
  wg?: number;
}

interface Dims {
  B: number;
  C: number;
  F: number;
  H: number;
  W: number;
}

function latentDims(op: string, t: Tensor, pt: number): Dims {
  const s = t.shape;
  if (s.length === 5) return { B: s[0]!, C: s[1]!, F: s[2]!, H: s[3]!, W: s[4]! };
  if (s.length === 4) {
    if (pt !== 1) throw new Error(`${op}: ${t.label} ${shapeStr(s)} is 4-D (no frame dim) but pt=${pt}`);
    return { B: s[0]!, C: s[1]!, F: 1, H: s[2]!, W: s[3]! };
  }
  throw new Error(`${op}: ${t.label} must be [B,C,F,H,W] or [B,C,H,W], got ${shapeStr(s)}`);
}

function checkPatch(op: string, d: Dims, patch: readonly number[], label: string): [number, number, number] {
  if (patch.length !== 3 || patch.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`${op}: patch must be 3 positive integers [pt,ph,pw], got [${patch.join(',')}]`);
  const [pt, ph, pw] = patch as [number, number, number];
  if (d.F % pt) throw new Error(`${op}: ${label} frames F=${d.F} is not divisible by pt=${pt}`);
  if (d.H % ph) throw new Error(`${op}: ${label} height H=${d.H} is not divisible by ph=${ph}`);
  if (d.W % pw) throw new Error(`${op}: ${label} width W=${d.W} is not divisible by pw=${pw}`);
  return [d.F / pt, d.H / ph, d.W / pw];
}

function checkTokens(op: string, t: Tensor, B: number, N: number, K: number): void {
  const last = t.shape[t.shape.length - 1]!;
  if (last !== K) throw new Error(`${op}: ${t.label} ${shapeStr(t.shape)} has last dim ${last}, expected K=${K}`);
  if (t.size !== B * N * K) throw new Error(`${op}: ${t.label} ${shapeStr(t.shape)} has ${t.size} elements, expected B·N·K = ${B}·${N}·${K} = ${B * N * K}`);
}

function record(plan: Plan, unpatch: boolean, src: Tensor, dst: Tensor, d: Dims, grid: number[], patch: number[], order: PatchOrder, layer: string | undefined, wg = 256): Tensor {
  const [Fp, Hp, Wp] = grid as [number, number, number];
  const [pt, ph, pw] = patch as [number, number, number];
  const total = dst.size;
  plan.record({
    spec: patchifyKernel,
    variant: { flags: { ...dtypeFlags(src), UNPATCH: unpatch, CLAST: order === 'c-last' }, overrides: { WG: wg } },
    uniforms: [
      ['total', 'u32', total],
      ['C', 'u32', d.C],
      ['Fp', 'u32', Fp],
      ['Hp', 'u32', Hp],
      ['Wp', 'u32', Wp],
      ['pt', 'u32', pt],
      ['ph', 'u32', ph],
      ['pw', 'u32', pw],
    ],
    buffers: [src, dst],
    // one invocation per token (B·N of them), each moving its K = total/(B·N) values
    workgroups: grid1D(plan.gpu, ceilDiv(total / (d.C * pt * ph * pw), wg)),
    layer,
    shapes: `${unpatch ? 'tokens' : 'x'}${shapeStr(src.shape)} p[${patch.join(',')}] ${order}`,
    // pure copy: no flops; every element read once and written once
    flops: 0,
    bytes: 2 * total * bytesPer(src.dtype),
  });
  return dst;
}

/** Latent [B,C,F,H,W] → tokens [B, F'H'W', C·pt·ph·pw] (f-major token order; see PatchOrder). */
export function patchify(plan: Plan, a: PatchifyArgs): Tensor {
  const order = a.order ?? 'c-first';
  const d = latentDims('patchify', a.x, a.patch[0]);
  const grid = checkPatch('patchify', d, a.patch, `x ${shapeStr(a.x.shape)}`);
  checkTokens('patchify', a.out, d.B, grid[0] * grid[1] * grid[2], d.C * a.patch[0] * a.patch[1] * a.patch[2]);
  checkDtypes('patchify', a.x, a.out);
  return record(plan, false, a.x, a.out, d, grid, a.patch, order, a.layer, a.wg);
}

/** Tokens [B, F'H'W', pt·ph·pw·Cout] → latent [B,Cout,F,H,W] (inverse of patchify with the same order). */
export function unpatchify(plan: Plan, a: UnpatchifyArgs): Tensor {
  const order = a.order ?? 'c-last';
  const d = latentDims('unpatchify', a.out, a.patch[0]);
  const grid = checkPatch('unpatchify', d, a.patch, `out ${shapeStr(a.out.shape)}`);
  if (a.grid.length !== 3 || grid.some((g, i) => g !== a.grid[i])) {
    throw new Error(`unpatchify: grid [${a.grid.join(',')}] does not match out ${shapeStr(a.out.shape)} / patch [${a.patch.join(',')}] = [${grid.join(',')}]`);
  }
  if (a.channels !== d.C) throw new Error(`unpatchify: channels=${a.channels} but out ${shapeStr(a.out.shape)} has C=${d.C}`);
  checkTokens('unpatchify', a.x, d.B, grid[0] * grid[1] * grid[2], d.C * a.patch[0] * a.patch[1] * a.patch[2]);
  checkDtypes('unpatchify', a.x, a.out);
  return record(plan, true, a.x, a.out, d, grid, a.patch, order, a.layer, a.wg);
}
