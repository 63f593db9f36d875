// VAE decoder weights on the GPU, rearranged once at load for the kernels that read them:
// convolutions [Cout, Cin, (kt,) kh, kw] → [taps, Cin, Cout padded to 4] (kernels/conv.wgsl reads
// four output channels as one vec4), 1×1 attention projections → Linear [out, in] for gemm, and
// norm gammas [C, 1, 1(, 1)] → [C].
import type { Allocator, DType, Tensor } from '../gpu/tensor.js';
import { tensorPath, type ModelFolder } from '../io/model-folder.js';
import { checkKeys, checkWeightValues, WeightError, type UnexpectedKeys } from '../model/weights.js';
import { callHook, type Hook } from '../hook.js';
import { throwIfAborted } from '../model/options.js';

/** A convolution ready for ops/conv: weights [taps, cin, 4·ceil(cout/4)], bias [cout]. */
export interface ConvWeight {
  w: Tensor;
  b: Tensor;
  cin: number;
  cout: number;
  /** Frames (1 or 3, causal) and spatial size (1 or 3). */
  kt: number;
  ks: number;
}

export class VaeWeights {
  constructor(
    readonly convs: Map<string, ConvWeight>,
    readonly tensors: Map<string, Tensor>,
    readonly dtype: DType,
  ) {}
  conv(name: string): ConvWeight {
    const c = this.convs.get(name);
    if (!c) throw new WeightError(`convolution ${name} was not loaded`);
    return c;
  }
  get(key: string): Tensor {
    const t = this.tensors.get(key);
    if (!t) throw new WeightError(`weight ${key} was not loaded`);
    return t;
  }
  has(key: string): boolean {
    return this.tensors.has(key) || this.convs.has(key);
  }
  get bytes(): number {
    let n = 0;
    for (const t of this.tensors.values()) n += t.buffer.size;
    for (const c of this.convs.values()) n += c.w.buffer.size + c.b.buffer.size;
    return n;
  }
}

/** [Cout, Cin, kt, kh, kw] (kt, kh, kw ≥ 1) → [kt·kh·kw, Cin, 4·ceil(Cout/4)], rows [o0, o0+n). */
export function convLayout(w: Float32Array, cout: number, cin: number, taps: number, o0 = 0, n = cout): Float32Array {
  const c4 = Math.ceil(n / 4) * 4;
  const out = new Float32Array(taps * cin * c4);
  for (let o = 0; o < n; o++) {
    for (let i = 0; i < cin; i++) {
      for (let t = 0; t < taps; t++) out[(t * cin + i) * c4 + o] = w[((o0 + o) * cin + i) * taps + t]!;
    }
  }
  return out;
}

/**
 * Checks the folder holds every decoder key of `want` with the right shape (WeightError naming the keys).
 * Only the decoder's keys are checked: the folder's encoder and quant_conv are allowed extras; another
 * `decoder.*` or `post_quant_conv.*` tensor is an unexpected key, refused unless `unexpected` is 'warn'
 * (then returned, for the caller to report; empty when there are none).
 */
export function checkVaeKeys(folder: ModelFolder, want: Map<string, number[]>, unexpected: UnexpectedKeys = 'error'): string[] {
  const decoder = new Map([...folder.tensors].filter(([k]) => want.has(k) || k.startsWith('decoder.') || k.startsWith('post_quant_conv.')));
  return checkKeys(folder.name, decoder, want, unexpected);
}

/**
 * Uploads the decoder keys of `want` (checked by checkVaeKeys) one at a time in `dtype`. `abort`: its signal is checked before each
 * tensor is read (an AbortError `WHERE, before KEY (I/N): aborted (REASON)`).
 */
export async function loadVaeWeights(
  alloc: Allocator,
  folder: ModelFolder,
  want: Map<string, number[]>,
  dtype: DType,
  onProgress?: Hook<[done: number, total: number, key: string]>,
  abort?: { signal: AbortSignal; where: string },
): Promise<VaeWeights> {
  const convs = new Map<string, ConvWeight>();
  const tensors = new Map<string, Tensor>();
  let done = 0;
  const read = async (key: string) => {
    if (abort) throwIfAborted(abort.signal, `${abort.where}, before ${key} (${done + 1}/${want.size})`);
    const d = await folder.readF32(key);
    checkWeightValues(key, d, dtype, tensorPath(folder, key));
    await callHook('onProgress', `loadVae, ${key}`, onProgress, ++done, want.size, key);
    return d;
  };
  const up = (data: Float32Array, shape: number[], label: string) => alloc.upload(data, shape, dtype, label);
  const addConv = (name: string, w: Float32Array, b: Float32Array, shape: number[], o0 = 0, n?: number) => {
    const [cout, cin, ...k] = shape as [number, number, ...number[]];
    const kt = k.length === 3 ? k[0]! : 1;
    const ks = k[k.length - 1]!;
    const taps = k.reduce((a, x) => a * x, 1);
    const cnt = n ?? cout;
    convs.set(name, {
      w: up(convLayout(w, cout, cin, taps, o0, cnt), [taps, cin, Math.ceil(cnt / 4) * 4], `${name}.weight`),
      b: up(b.subarray(o0, o0 + cnt), [cnt], `${name}.bias`),
      cin,
      cout: cnt,
      kt,
      ks,
    });
  };
  for (const [key, shape] of want) {
    if (!key.endsWith('.weight') && !key.endsWith('.gamma')) continue;
    const name = key.slice(0, key.lastIndexOf('.'));
    if (key.endsWith('.gamma')) {
      tensors.set(name, up(await read(key), [shape[0]!], key));
      continue;
    }
    const isNorm = /norm/.test(name);
    if (isNorm) {
      tensors.set(`${name}.weight`, up(await read(key), shape, key));
      tensors.set(`${name}.bias`, up(await read(`${name}.bias`), shape, `${name}.bias`));
      continue;
    }
    const w = await read(key);
    const b = await read(`${name}.bias`);
    if (name.endsWith('.to_qkv')) {
      // Wan's 1×1 Conv2d to q, k, v (channel chunks of 3C) as three Linear layers for gemm.
      const C = shape[1]!;
      ['to_q', 'to_k', 'to_v'].forEach((p, i) => {
        const base = name.replace(/to_qkv$/, p);
        tensors.set(`${base}.weight`, up(w.subarray(i * C * C, (i + 1) * C * C), [C, C], `${base}.weight`));
        tensors.set(`${base}.bias`, up(b.subarray(i * C, (i + 1) * C), [C], `${base}.bias`));
      });
    } else if (shape.length === 2 || name.endsWith('.proj')) {
      // Linear [out, in] (AutoencoderKL attention) or Wan's 1×1 Conv2d proj, read as one.
      tensors.set(`${name}.weight`, up(w, [shape[0]!, shape[1]!], key));
      tensors.set(`${name}.bias`, up(b, [shape[0]!], `${name}.bias`));
    } else if (name.endsWith('.time_conv')) {
      // upsample3d's time_conv: output channels [0, C) make frame 2t, [C, 2C) frame 2t+1.
      const C = shape[0]! / 2;
      addConv(`${name}.0`, w, b, shape, 0, C);
      addConv(`${name}.1`, w, b, shape, C, C);
    } else {
      addConv(name, w, b, shape);
    }
  }
  return new VaeWeights(convs, tensors, dtype);
}
