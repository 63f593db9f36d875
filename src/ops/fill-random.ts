// Seeded random tensors made on the GPU (kernels/fill_random.wgsl): the random weights of
// loadRandomModel (src/model/presets.ts) without generating gigabytes on the host. Also the same
// numbers on the host (randomValues), the reference the kernel is tested against. Browser-safe.
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan } from '../gpu/plan.js';
import { bytesPer, shapeStr, type Tensor } from '../gpu/tensor.js';
import { ceilDiv, dtypeFlags } from './util.js';

export const fillRandomKernel = defineKernel({
  name: 'fill_random',
  prelude: ['common/dtype'],
  flags: { F16: [false, true] },
  // one value: the op dispatches ceil(n / 256) workgroups
  overrides: { WG: [256] },
  bindings: ['uniform', 'rw'],
  needs: { F16: 'shader-f16' },
});

/** The 32-bit integer hash of the kernel's `mix` ("lowbias32": xorshift-multiply, full avalanche). */
export function mix32(v: number): number {
  let x = v >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The two keys of stream `stream` (e.g. a weight's index in the model) under `seed`: every
 * (seed, stream) pair gets its own unrelated sequence (seed s stream t+1 is not seed s+1 stream t).
 * @param seed any integer (safe-integer range); @param stream an integer ≥ 0.
 */
export function randomKeys(seed: number, stream: number): [number, number] {
  if (!Number.isSafeInteger(seed)) throw new Error(`randomKeys: seed must be a safe integer, got ${seed}`);
  if (!Number.isInteger(stream) || stream < 0 || stream > 0xffffffff) throw new Error(`randomKeys: stream must be an integer in [0, 2^32), got ${stream}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0; // two's complement high word (−1 for small negative seeds)
  const s = mix32(mix32(lo ^ 0x243f6a88) ^ mix32(hi ^ 0x85a308d3));
  const k1 = mix32(s ^ mix32(stream ^ 0x13198a2e));
  const k2 = mix32((k1 + 0x9e3779b9) >>> 0);
  return [k1, k2];
}

/** The uniform value u(j) in (−1, 1) the kernel computes for element j (exact in f32 and f64). */
export function unitValue(j: number, k1: number, k2: number): number {
  const h = mix32(((mix32((j ^ k1) >>> 0) + k2) >>> 0) >>> 0);
  return ((h >>> 9) - 4194304 + 0.5) * 2 ** -22;
}

export interface RandomFill {
  /** Seed of the whole set (e.g. --seed). */
  seed: number;
  /** Which tensor of the set (index ≥ 0). */
  stream: number;
  /** Standard deviation of the values (> 0 or 0). */
  scale: number;
  /** Mean of the values. */
  offset?: number;
}

/**
 * Uniform values on offset ± √3·scale (standard deviation `scale`, mean `offset`), n of them: what
 * fillRandom writes for the same arguments, computed in f32 as the kernel does (the last
 * multiply-add rounded twice, as an adapter that does not fuse it; f16 storage rounds once more).
 */
export function randomValues(n: number, f: RandomFill): Float32Array {
  const [k1, k2] = randomKeys(f.seed, f.stream);
  const half = Math.fround(f.scale * Math.sqrt(3));
  const offset = Math.fround(f.offset ?? 0);
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) out[j] = Math.fround(offset + Math.fround(half * unitValue(j, k1, k2)));
  return out;
}

export interface FillRandomArgs extends RandomFill {
  /** The tensor written (f32 or f16); elements [start, start + n). */
  out: Tensor;
  /** First element written (default 0): a part of a fused buffer such as q|k|v. */
  start?: number;
  /** Elements written (default out.size − start). */
  n?: number;
  layer?: string;
}

/** Records one seeded random fill (see kernels/fill_random.wgsl). @throws Error when [start, start + n) is outside `out` or the values are not finite. */
export function fillRandom(plan: Plan, a: FillRandomArgs): Tensor {
  const start = a.start ?? 0;
  const n = a.n ?? a.out.size - start;
  if (!(Number.isInteger(start) && Number.isInteger(n) && start >= 0 && n >= 1 && start + n <= a.out.size)) throw new Error(`fillRandom: [${start}, ${start + n}) is outside ${a.out.label} (${a.out.size} elements)`);
  if (!(Number.isFinite(a.scale) && a.scale >= 0 && Number.isFinite(a.offset ?? 0))) throw new Error(`fillRandom: scale ${a.scale} and offset ${a.offset} must be finite, scale ≥ 0`);
  const [k1, k2] = randomKeys(a.seed, a.stream);
  plan.record({
    spec: fillRandomKernel,
    variant: { flags: dtypeFlags(a.out) },
    uniforms: [
      ['n', 'u32', n],
      ['start', 'u32', start],
      ['k1', 'u32', k1],
      ['k2', 'u32', k2],
      ['half', 'f32', a.scale * Math.sqrt(3)],
      ['offset', 'f32', a.offset ?? 0],
      ['_pad0', 'u32', 0],
      ['_pad1', 'u32', 0],
    ],
    buffers: [a.out],
    workgroups: grid1D(plan.gpu, ceilDiv(n, 256)),
    layer: a.layer,
    shapes: `${a.out.label}${shapeStr(a.out.shape)}${start || n !== a.out.size ? `[${start}:${start + n}]` : ''}`,
    flops: n * 2,
    bytes: n * bytesPer(a.out.dtype),
  });
  return a.out;
}
