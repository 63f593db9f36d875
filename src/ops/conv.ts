// Convolution as an implicit GEMM over channels-last row bands (kernels/conv.wgsl): Conv2d,
// causal Conv3d (frames bound as separate tensors: the frame cache is a buffer, not a copy),
// nearest-2× upsampling folded into the input indexing, bias and residual add in the epilogue.
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan } from '../gpu/plan.js';
import { bytesPer, shapeStr, type Tensor } from '../gpu/tensor.js';
import { ceilDiv, checkDtypes, dtypeFlags } from './util.js';

export const convKernel = defineKernel({
  name: 'conv',
  prelude: ['common/dtype'],
  flags: { F16: [false, true], RESIDUAL: [false, true], VEC4: [false, true] },
  overrides: { WG: [64], PX: [4, 8] },
  bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'rw'],
  needs: { F16: 'shader-f16' },
});

export interface ConvArgs {
  /**
   * Input frames, oldest first: [x] (Conv2d / kt = 1) or [x(t−2), x(t−1), x(t)] (causal kt = 3).
   * Each a row band [inRows + 2, inWidth, cin] (halo rows 0 and inRows + 1) or, for ks = 1, any
   * tensor holding the rows from element `inOffset`.
   */
  x: Tensor[];
  /** [taps, cin, 4·ceil(cout/4)], taps = frames·ks·ks (src/vae/weights.ts convLayout). */
  w: Tensor;
  /** [cout] */
  bias: Tensor;
  out: Tensor;
  /** Added in the epilogue; same layout as out (may be out itself only when not aliased: it is not allowed). */
  residual?: Tensor;
  rows: number;
  width: number;
  cin: number;
  cout: number;
  /** Spatial kernel size, 1 or 3 (zero padding ks/2). */
  ks: number;
  /** Nearest-2× upsampled input (input rows = rows/2, width = width/2). */
  up?: boolean;
  /** Element index of input/output row 0 (default: one halo row in, W·C). */
  inOffset?: number;
  outOffset?: number;
  /**
   * Independent images in x / out / residual (the VAE's batch items or frames), one after another: image n
   * from element n · inImageStride (each input) and n · outImageStride (out, residual). Default 1.
   */
  images?: number;
  /** Elements from one input image to the next (default: a whole band, (inRows + 2) · inWidth · cin). */
  inImageStride?: number;
  /** Elements from one output image to the next (default: (rows + 2) · width · cout). */
  outImageStride?: number;
  layer?: string;
  tile?: { PX?: number; WG?: number };
}

/** out[interior rows] = conv(x) + bias (+ residual). Returns out. */
export function conv(plan: Plan, a: ConvArgs): Tensor {
  const { rows, width, cin, cout, ks } = a;
  const up = !!a.up;
  const frames = a.x.length;
  if (frames !== 1 && frames !== 3) throw new Error(`conv: ${frames} input frames given, expected 1 or 3`);
  if (ks !== 1 && ks !== 3) throw new Error(`conv: kernel size ${ks}, expected 1 or 3`);
  if (up && (rows % 2 !== 0 || width % 2 !== 0)) throw new Error(`conv: upsampled output ${rows}×${width} must be even`);
  const inW = up ? width / 2 : width;
  const inRows = up ? rows / 2 : rows;
  const c4 = ceilDiv(cout, 4);
  const taps = frames * ks * ks;
  if (a.w.shape.join(',') !== [taps, cin, c4 * 4].join(',')) throw new Error(`conv: w ${a.w.label} is ${shapeStr(a.w.shape)}, expected [${taps},${cin},${c4 * 4}]`);
  if (a.bias.size !== cout) throw new Error(`conv: bias ${a.bias.label} has ${a.bias.size} elements, expected ${cout}`);
  const inOff = a.inOffset ?? inW * cin;
  const outOff = a.outOffset ?? width * cout;
  const images = a.images ?? 1;
  if (!Number.isInteger(images) || images < 1) throw new Error(`conv: images ${images}, expected a positive integer`);
  const inImg = images > 1 ? (a.inImageStride ?? (inRows + 2) * inW * cin) : 0;
  const outImg = images > 1 ? (a.outImageStride ?? (rows + 2) * width * cout) : 0;
  const inNeed = (images - 1) * inImg + (ks === 3 ? inOff + (inRows + 1) * inW * cin : inOff + inRows * inW * cin);
  if (ks === 3 && inOff < inW * cin) throw new Error(`conv: a 3×3 kernel reads halo row −1: inOffset ${inOff} must be ≥ ${inW * cin}`);
  for (const x of a.x) if (x.size < inNeed) throw new Error(`conv: input ${x.label} ${shapeStr(x.shape)} has ${x.size} elements, needs ${inNeed}`);
  const outNeed = (images - 1) * outImg + outOff + rows * width * cout;
  if (a.out.size < outNeed) throw new Error(`conv: out ${a.out.label} ${shapeStr(a.out.shape)} has ${a.out.size} elements, needs ${outNeed}`);
  if (a.residual && a.residual.size < outNeed) throw new Error(`conv: residual ${a.residual.label} has ${a.residual.size} elements, needs ${outNeed}`);
  checkDtypes('conv', ...a.x, a.w, a.bias, a.out, a.residual);
  for (const t of [...a.x, a.w, a.bias, ...(a.residual ? [a.residual] : [])]) {
    if (t.buffer === a.out.buffer) throw new Error(`conv: out ${a.out.label} must not alias ${t.label}`);
  }
  // four input channels per load where the channels allow (every VAE layer but odd test shapes)
  const vec4 = cin % 4 === 0 && inOff % 4 === 0;
  const PX = a.tile?.PX ?? 4;
  const WG = a.tile?.WG ?? 64;
  const pxGroups = ceilDiv(width, PX);
  const total = images * rows * pxGroups * c4;
  const [x0, x1, x2] = frames === 3 ? a.x : [plan.dummy, plan.dummy, a.x[0]!];
  const bp = bytesPer(a.out.dtype);
  plan.record({
    spec: convKernel,
    variant: { flags: { ...dtypeFlags(a.out), RESIDUAL: !!a.residual, VEC4: vec4 }, overrides: { PX, WG } },
    uniforms: [
      ['rows', 'u32', rows],
      ['width', 'u32', width],
      ['cin', 'u32', cin],
      ['cout', 'u32', cout],
      ['c4', 'u32', c4],
      ['in_width', 'u32', inW],
      ['frames', 'u32', frames],
      ['ks', 'u32', ks],
      ['up', 'u32', up ? 1 : 0],
      ['in_off', 'u32', inOff],
      ['out_off', 'u32', outOff],
      ['px_groups', 'u32', pxGroups],
      ['total', 'u32', total],
      ['cinv', 'u32', vec4 ? cin / 4 : cin],
      ['in_img', 'u32', inImg],
      ['out_img', 'u32', outImg],
    ],
    buffers: [x0!, x1!, x2!, a.w, a.bias, a.residual ?? plan.dummy, a.out],
    workgroups: grid1D(plan.gpu, ceilDiv(total, WG)),
    layer: a.layer,
    shapes: `x[${images > 1 ? `${images}×` : ''}${frames}×${inRows},${inW},${cin}] k${frames > 1 ? `${frames}×` : ''}${ks}×${ks}${up ? ' up2' : ''} → [${rows},${width},${cout}]`,
    // 2 FLOPs per multiply-add over every tap and input channel, + bias (+ residual) per output.
    flops: images * rows * width * cout * (2 * taps * cin + 1 + (a.residual ? 1 : 0)),
    // each input frame and the weights once, out written (residual read).
    bytes: (images * (frames * inRows * inW * cin + rows * width * cout * (a.residual ? 2 : 1)) + a.w.size) * bp,
  });
  return a.out;
}
