// Sinusoidal timestep embedding, diffusers get_timestep_embedding (kernels/timestep.wgsl).
// Settings per family (diffusers): Wan Timesteps(256, flip=True, shift=0); DiT
// CombinedTimestepLabelEmbeddings Timesteps(256, flip=True, shift=1) — exponent divided by 127;
// Latte adaln_single (PixArt) Timesteps(256, flip=True, shift=0).
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan } from '../gpu/plan.js';
import { bytesPer, shapeStr, type Tensor } from '../gpu/tensor.js';
import { ceilDiv, dtypeFlags } from './util.js';

export const timestepKernel = defineKernel({
  name: 'timestep',
  prelude: ['common/dtype'],
  flags: { F16: [false, true], FLIP: [false, true] },
  // one value: the op dispatches ceil(n / 256) workgroups, so any other WG would leave outputs unwritten
  overrides: { WG: [256] },
  bindings: ['uniform', 'read', 'read', 'rw'],
  needs: { F16: 'shader-f16' },
});

export interface TimestepOptions {
  flipSinToCos: boolean;
  downscaleFreqShift: number;
  /** Multiplies the argument (diffusers `scale`, default 1). */
  scale?: number;
  maxPeriod?: number;
}

/**
 * The `half` frequencies as torch forms them in f32: exponent = f32(f32(−ln P)·i) / f32(half − shift),
 * rounded to f32, then exp rounded to f32 (torch's f32 exp is within 1 ulp of this).
 */
export function timestepFreqs(dim: number, o: TimestepOptions): Float32Array {
  const half = Math.floor(dim / 2);
  const shift = o.downscaleFreqShift;
  const denom = Math.fround(half - shift);
  if (half > 0 && denom === 0) throw new Error(`timestep: half − downscaleFreqShift = ${half} − ${shift} is 0`);
  const negLog = Math.fround(-Math.log(o.maxPeriod ?? 10000));
  const f = new Float32Array(half);
  for (let i = 0; i < half; i++) f[i] = Math.exp(Math.fround(Math.fround(negLog * i) / denom));
  return f;
}

export interface TimestepArgs extends TimestepOptions {
  t: Tensor; // f32 [B] timesteps (fractional allowed), rewritten per step with writeBuffer
  out: Tensor; // [B, dim], f32 or f16
  layer?: string;
}

/** out[b] = flip ? [cos(t·f), sin(t·f)] : [sin(t·f), cos(t·f)] (+ a 0 for odd dim). */
export function timestepEmbedding(plan: Plan, a: TimestepArgs): Tensor {
  if (a.t.dtype !== 'f32') throw new Error(`timestep: t ${a.t.label} must be f32, got ${a.t.dtype}`);
  const B = a.t.size;
  const dim = a.out.shape[a.out.shape.length - 1]!;
  if (a.out.size !== B * dim) throw new Error(`timestep: out ${shapeStr(a.out.shape)} has ${a.out.size} elements, expected B·dim = ${B}·${dim}`);
  const freqs = timestepFreqs(dim, a);
  // the frequencies depend only on (dim, shift, max_period): uploaded once when the plan is recorded
  const ft = plan.alloc.upload(freqs.length ? freqs : [0], [Math.max(1, freqs.length)], 'f32', `${a.layer ?? 'timestep'}:freqs`);
  const total = B * dim;
  plan.record({
    spec: timestepKernel,
    variant: { flags: { ...dtypeFlags(a.out), FLIP: a.flipSinToCos } },
    uniforms: [
      ['total', 'u32', total],
      ['dim', 'u32', dim],
      ['half', 'u32', freqs.length],
      ['scale', 'f32', a.scale ?? 1],
    ],
    buffers: [ft, a.t, a.out],
    workgroups: grid1D(plan.gpu, ceilDiv(total, 256)),
    layer: a.layer,
    shapes: `t[${B}] out${shapeStr(a.out.shape)} shift${a.downscaleFreqShift}${a.flipSinToCos ? ' flip' : ''}`,
    // per output: 2 mul + reduction (4 mul/add) + one sin or cos (~20 flops)
    flops: total * 26,
    bytes: total * bytesPer(a.out.dtype) + total * 8,
  });
  return a.out;
}
