// The VAE decoders' norms over channels-last pixels with fused SiLU (kernels/vae_norm.wgsl):
// WanRMS_norm (one dispatch) and GroupNorm over a frame that may be split in row bands
// (statistics passes over every band, then apply).
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan } from '../gpu/plan.js';
import { bytesPer, type Tensor } from '../gpu/tensor.js';
import { ceilDiv, checkDtypes, dtypeFlags } from './util.js';

export const vaeNormKernel = defineKernel({
  name: 'vae_norm',
  prelude: ['common/dtype', 'common/wg_sum'],
  flags: { F16: [false, true], GROUP: [false, true], STATS: [false, true], SILU: [false, true], SG: [false, true] },
  overrides: { WG: [64] },
  bindings: ['uniform', 'read', 'read', 'read', 'rw', 'rw'],
  needs: { F16: 'shader-f16', SG: 'subgroups' },
  // SG: the statistics passes' workgroup sum by subgroupAdd (common/wg_sum.wgsl)
  valid: (f) => (!f.STATS || (!!f.GROUP && !f.SILU)) && (!f.SG || !!f.STATS),
});

/**
 * A span of n pixels × C channels from element `offset` of a tensor (a row band's interior), in each of
 * `images` independent images (default 1) `imageStride` elements apart: image m's pixels from
 * offset + m · imageStride. Each image is normalised on its own (GroupNorm statistics per image).
 */
export interface PixelSpan {
  t: Tensor;
  offset: number;
  pixels: number;
  images?: number;
  imageStride?: number;
}

const imagesOf = (s: PixelSpan) => s.images ?? 1;
const strideOf = (s: PixelSpan) => (imagesOf(s) > 1 ? s.imageStride ?? 0 : 0);

function checkSpan(op: string, s: PixelSpan, C: number): void {
  const m = imagesOf(s);
  if (!Number.isInteger(m) || m < 1) throw new Error(`${op}: ${s.t.label}: images ${m}, expected a positive integer`);
  if (m > 1 && strideOf(s) < s.pixels * C) throw new Error(`${op}: ${s.t.label}: imageStride ${s.imageStride} is below one image's ${s.pixels * C} elements`);
  const need = (m - 1) * strideOf(s) + s.offset + s.pixels * C;
  if (need > s.t.size) throw new Error(`${op}: ${s.t.label} has ${s.t.size} elements, the span needs ${need}`);
}

function sameImages(op: string, x: PixelSpan, out: PixelSpan): void {
  if (imagesOf(x) !== imagesOf(out) || strideOf(x) !== strideOf(out)) throw new Error(`${op}: input and output spans differ in images (${imagesOf(x)}, ${imagesOf(out)}) or imageStride (${strideOf(x)}, ${strideOf(out)})`);
}

/** WanRMS_norm over channels: y = x / max(‖x‖, 1e-12) · √C · gamma (then SiLU). */
export function rmsNormChannels(plan: Plan, a: { x: PixelSpan; out: PixelSpan; C: number; gamma: Tensor; silu?: boolean; layer?: string }): void {
  const { C } = a;
  checkSpan('rmsNormChannels', a.x, C);
  checkSpan('rmsNormChannels', a.out, C);
  if (a.x.pixels !== a.out.pixels) throw new Error(`rmsNormChannels: ${a.x.pixels} input pixels, ${a.out.pixels} output`);
  if (a.gamma.size !== C) throw new Error(`rmsNormChannels: gamma ${a.gamma.label} has ${a.gamma.size} elements, expected ${C}`);
  if (a.x.offset !== a.out.offset) throw new Error('rmsNormChannels: input and output spans must start at the same offset');
  sameImages('rmsNormChannels', a.x, a.out);
  checkDtypes('rmsNormChannels', a.x.t, a.out.t, a.gamma);
  const m = imagesOf(a.x);
  const n = a.x.pixels * m;
  plan.record({
    spec: vaeNormKernel,
    variant: { flags: { ...dtypeFlags(a.x.t), SILU: !!a.silu } },
    uniforms: uniforms(a.x.pixels, C, 1, C, a.x.offset, 0, 0, 0, 1, Math.sqrt(C), m, strideOf(a.x)),
    // beta is unused by RMS: gamma fills its binding (the dummy is bound read-write as stats)
    buffers: [a.x.t, a.gamma, a.gamma, plan.dummy, a.out.t],
    workgroups: grid1D(plan.gpu, ceilDiv(n, 64)),
    layer: a.layer,
    shapes: `x[${m > 1 ? `${m}×` : ''}${a.x.pixels},${C}]`,
    flops: n * C * (5 + (a.silu ? 4 : 0)),
    bytes: (3 * n * C + C) * bytesPer(a.x.t.dtype),
  });
}

function uniforms(n: number, C: number, G: number, cg: number, off: number, pass: number, acc: number, eps: number, count: number, scale: number, images: number, imgStride: number) {
  return [
    ['n', 'u32', n],
    ['C', 'u32', C],
    ['groups', 'u32', G],
    ['cg', 'u32', cg],
    ['off', 'u32', off],
    ['stage', 'u32', pass],
    ['accumulate', 'u32', acc],
    ['eps', 'f32', eps],
    ['count', 'f32', count],
    ['scale', 'f32', scale],
    ['images', 'u32', images],
    ['img_stride', 'u32', imgStride],
  ] as [string, 'u32' | 'f32', number][];
}

/**
 * torch GroupNorm (then SiLU) over one frame given as row-band spans (statistics over all of
 * them): y = (x − mean_g) / √(var_g + eps) · weight + bias. With spans of `images` > 1 (every span
 * the same count), each image has its own statistics: `stats` is an f32 scratch of ≥ 2·G·images
 * elements (image m's at 2·G·m). Records 2·bands statistics dispatches and one apply per band. `subgroups`: the statistics'
 * workgroup sums by subgroupAdd (default: when the adapter has subgroups), else the workgroup-memory tree.
 */
export function groupNorm(plan: Plan, a: { x: PixelSpan[]; out: PixelSpan[]; C: number; groups: number; eps: number; weight: Tensor; bias: Tensor; stats: Tensor; silu?: boolean; layer?: string; subgroups?: boolean }): void {
  const { C, groups: G } = a;
  const sg = a.subgroups ?? plan.gpu.subgroups;
  if (sg && !plan.gpu.subgroups) throw new Error('groupNorm: subgroup sums need an adapter with subgroups (this one lacks them)');
  if (C % G !== 0) throw new Error(`groupNorm: ${C} channels is not a multiple of ${G} groups`);
  if (a.x.length !== a.out.length) throw new Error(`groupNorm: ${a.x.length} input spans, ${a.out.length} output spans`);
  if (a.weight.size !== C || a.bias.size !== C) throw new Error(`groupNorm: weight/bias must have ${C} elements (have ${a.weight.size}, ${a.bias.size})`);
  const m = a.x.length ? imagesOf(a.x[0]!) : 1;
  if (a.stats.size < 2 * G * m || a.stats.dtype !== 'f32') throw new Error(`groupNorm: stats ${a.stats.label} must be f32 with ≥ ${2 * G * m} elements`);
  const cg = C / G;
  let pixels = 0;
  a.x.forEach((s, i) => {
    checkSpan('groupNorm', s, C);
    checkSpan('groupNorm', a.out[i]!, C);
    if (s.pixels !== a.out[i]!.pixels || s.offset !== a.out[i]!.offset) throw new Error(`groupNorm: span ${i}: input and output spans differ`);
    sameImages('groupNorm', s, a.out[i]!);
    if (imagesOf(s) !== m) throw new Error(`groupNorm: span ${i} holds ${imagesOf(s)} images, span 0 ${m}`);
    checkDtypes('groupNorm', s.t, a.out[i]!.t, a.weight, a.bias);
    pixels += s.pixels;
  });
  const count = pixels * cg;
  const bp = bytesPer(a.weight.dtype);
  for (const pass of [0, 1]) {
    a.x.forEach((s, i) => {
      plan.record({
        spec: vaeNormKernel,
        variant: { flags: { ...dtypeFlags(s.t), GROUP: true, STATS: true, SG: sg } },
        uniforms: uniforms(s.pixels, C, G, cg, s.offset, pass, i === 0 ? 0 : 1, a.eps, count, 1, m, strideOf(s)),
        buffers: [s.t, a.weight, a.bias, a.stats, plan.dummy],
        workgroups: [G, m, 1],
        layer: a.layer,
        shapes: `x[${m > 1 ? `${m}×` : ''}${s.pixels},${C}] g${G} pass${pass}`,
        flops: m * s.pixels * C * (pass ? 3 : 1),
        bytes: m * s.pixels * C * bp,
      });
    });
  }
  a.x.forEach((s, i) => {
    plan.record({
      spec: vaeNormKernel,
      variant: { flags: { ...dtypeFlags(s.t), GROUP: true, SILU: !!a.silu } },
      uniforms: uniforms(s.pixels, C, G, cg, s.offset, 0, 0, a.eps, count, 1, m, strideOf(s)),
      buffers: [s.t, a.weight, a.bias, a.stats, a.out[i]!.t],
      workgroups: grid1D(plan.gpu, ceilDiv(m * s.pixels, 64)),
      layer: a.layer,
      shapes: `x[${m > 1 ? `${m}×` : ''}${s.pixels},${C}] g${G}`,
      flops: m * s.pixels * C * (4 + (a.silu ? 4 : 0)),
      bytes: (2 * m * s.pixels * C + 2 * C) * bp,
    });
  });
}
