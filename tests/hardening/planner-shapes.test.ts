// Audit 12 D (6): the planners and the sample post-processing refuse shapes no tensor has, with an
// InputError naming the argument, before any arithmetic. planDecode made plans with 1.5 rows,
// -7 frames or batch 0 (or a LimitError for a band of -Infinity rows), took a NaN binding limit
// and dtype 'bf16'; planUmt5 / checkUmt5Fits planned batch 0 and -5 tokens; postprocessSample
// turned [-1,3,-1,2,2] into a shape of zeros.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/model.js';
import { parseUmt5Config } from '../../src/text/config.js';
import { checkUmt5Fits, planUmt5 } from '../../src/text/memory.js';
import { parseVaeConfig } from '../../src/vae/config.js';
import { planDecode } from '../../src/vae/decoder.js';
import { postprocessSample, videoToFrames } from '../../src/video/frames.js';
import { thrown } from '../helpers/errors.js';

const MiB = 2 ** 20;
const wan = parseVaeConfig({ _class_name: 'AutoencoderKLWan', base_dim: 96, z_dim: 16, dim_mult: [1, 2, 4, 4], num_res_blocks: 2, temperal_downsample: [false, true, true], latents_mean: Array(16).fill(0), latents_std: Array(16).fill(1) });

describe('planDecode', () => {
  it('refuses a dim that is not a positive integer, naming latents', () => {
    for (const shape of [[1, 16, 1, 1.5, 2], [1, 16, -1, 2, 2], [0, 16, 1, 2, 2], [1, 16, 1, -2, 2], [1, 16, 1, 0, 2], [1, 16, NaN, 2, 2]]) {
      expect(thrown(() => planDecode(wan, shape, 'f32', 128 * MiB), InputError).message).toBe(`latents: every dim must be a positive integer, found [${shape.join(',')}]`);
    }
    expect(thrown(() => planDecode(wan, null as never, 'f32', 128 * MiB), InputError).message).toBe('latents: every dim must be a positive integer, found null');
  });
  it('refuses a dtype it cannot store and a binding limit that is not a positive integer', () => {
    expect(thrown(() => planDecode(wan, [1, 16, 1, 2, 2], 'bf16' as never, 128 * MiB), InputError).message).toBe(`dtype: 'f32' or 'f16', got "bf16"`);
    for (const [b, s] of [[NaN, 'NaN'], [0, '0'], [-4, '-4'], [1.5, '1.5'], [Infinity, 'Infinity']] as const) {
      expect(thrown(() => planDecode(wan, [1, 16, 1, 2, 2], 'f32', b), InputError).message).toBe(`maxBinding: a positive integer (bytes of the largest binding), got ${s}`);
    }
  });
  it('still plans a valid shape', () => {
    expect(planDecode(wan, [1, 16, 2, 2, 2], 'f32', 128 * MiB).outShape).toEqual([1, 3, 5, 16, 16]);
  });
});

describe('planUmt5 / checkUmt5Fits', () => {
  const c = parseUmt5Config({
    architectures: ['UMT5EncoderModel'], model_type: 'umt5', d_model: 64, d_kv: 16, num_heads: 4, d_ff: 128, num_layers: 2,
    vocab_size: 256, relative_attention_num_buckets: 32, relative_attention_max_distance: 128, feed_forward_proj: 'gated-gelu', dense_act_fn: 'gelu_new', layer_norm_epsilon: 1e-6,
  });
  const lim = { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB };
  it('refuses batch, seqLen and limits that are not positive integers, naming them', () => {
    const cases: [number, number, typeof lim, string][] = [
      [0, 16, lim, 'batch: the number of prompts, a positive integer, got 0'],
      [1.5, 16, lim, 'batch: the number of prompts, a positive integer, got 1.5'],
      [1, -5, lim, 'seqLen: tokens per prompt (max_sequence_length), a positive integer, got -5'],
      [1, 1.5, lim, 'seqLen: tokens per prompt (max_sequence_length), a positive integer, got 1.5'],
      [1, NaN, lim, 'seqLen: tokens per prompt (max_sequence_length), a positive integer, got NaN'],
      [1, 16, { ...lim, maxStorageBufferBindingSize: NaN }, "limits.maxStorageBufferBindingSize: bytes, a positive integer (the adapter's limit), got NaN"],
      [1, 16, { ...lim, maxBufferSize: 0 }, "limits.maxBufferSize: bytes, a positive integer (the adapter's limit), got 0"],
    ];
    for (const [b, l, limits, msg] of cases) {
      expect(thrown(() => planUmt5(c, b, l, limits), InputError).message).toBe(msg);
      expect(thrown(() => checkUmt5Fits(c, b, l, limits), InputError).message).toBe(msg);
    }
  });
  it('still plans valid sizes', () => {
    expect(checkUmt5Fits(c, 2, 16, lim).mode).toBe('resident');
  });
});

describe('postprocessSample / videoToFrames', () => {
  it('refuse a dim that is not a positive integer before any arithmetic', () => {
    expect(thrown(() => postprocessSample({ data: new Float32Array(12), shape: [-1, 3, -1, 2, 2] }), InputError).message).toBe('postprocess: sample: every dim must be a positive integer, got [-1,3,-1,2,2]');
    expect(thrown(() => postprocessSample({ data: new Float32Array(0), shape: [0, 3, 2, 2] }), InputError).message).toBe('postprocess: sample: every dim must be a positive integer, got [0,3,2,2]');
    expect(thrown(() => postprocessSample({ data: new Float32Array(6), shape: [1, 3, 1.5, 2] }), InputError).message).toBe('postprocess: sample: every dim must be a positive integer, got [1,3,1.5,2]');
    expect(thrown(() => postprocessSample({ data: new Float32Array(6) } as never), InputError).message).toBe('postprocess: sample: expected { data: Float32Array, shape: number[] } (shape [B,3,F,H,W] or [B,3,H,W]), got shape undefined');
    expect(thrown(() => videoToFrames({ data: new Float32Array(12), shape: [1, -1, 2, 2, 3] }), InputError).message).toBe('frames: video: every dim must be a positive integer, got [1,-1,2,2,3]');
  });
  it('the other refusals are InputError too', () => {
    expect(thrown(() => postprocessSample({ data: new Float32Array(8), shape: [1, 2, 2, 2] }), InputError).message).toMatch(/3 \(RGB\) channels/);
    expect(thrown(() => videoToFrames({ data: new Float32Array(12), shape: [1, 1, 2, 2, 3] }, 1), InputError).message).toMatch(/batch item 1/);
  });
});
