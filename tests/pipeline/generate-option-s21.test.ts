// Pipeline.generate's own refusals name the caller's option in InputError.option (as generate()'s and the
// loaders' option checks do), not only in the message: tensors, sizes, conflicts, the batch, the text side.
// A Wan-shaped stand-in (patch 1×2×2, VAE factors 8 / 4, rope_max_seq_len 4): no GPU, nothing is run.
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.js';
import type { FolderSource } from '../../src/io/source.js';
import { InputError, RopeLimitError, type DiffusionModel } from '../../src/model/model.js';
import { createPipeline, type ModelIndex, type PipelineGenerateOptions } from '../../src/pipeline/pipeline.js';
import { schedulerFromConfig } from '../../src/sampler/config.js';

const transformer = { family: 'wan', config: { family: 'wan', inChannels: 4, outChannels: 4, patch: [1, 2, 2], textDim: 16, ropeMaxSeqLen: 4 } } as unknown as DiffusionModel;
const pipe = createPipeline({ name: 'stand-in', className: 'WanPipeline', modelIndex: {} as ModelIndex, folder: {} as FolderSource, gpu: {} as Gpu, transformer, vae: undefined, schedulerConfig: {}, scheduler: schedulerFromConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler' }), vaeScale: { spatial: 8, temporal: 4 }, ownsGpu: false });
const tensor = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });
const text = tensor([1, 8, 16]);
const base = { prompt_embeds: text, guidance_scale: 1, num_inference_steps: 1, output_type: 'latent' } as const;
const sizes = { height: 32, width: 32, num_frames: 5 };

async function refusal(o: PipelineGenerateOptions): Promise<InputError> {
  const e = await pipe.generate(o).then(() => new Error('accepted'), (x: Error) => x);
  expect(e, e.message).toBeInstanceOf(InputError);
  return e as InputError;
}

describe('Pipeline.generate: InputError.option is the option the caller gave', () => {
  it('sizes: height, width, num_frames (missing, malformed, not a multiple, not 4k + 1, past rope_max_seq_len)', async () => {
    for (const [o, option] of [
      [{ width: 32, num_frames: 5 }, 'height'],
      [{ ...sizes, width: 30 }, 'width'],
      [{ ...sizes, height: 0 }, 'height'],
      [{ ...sizes, num_frames: 8 }, 'num_frames'],
      [{ ...sizes, num_frames: 17 }, 'num_frames'], // 5 latent frames > rope_max_seq_len 4
    ] as const) {
      expect((await refusal({ ...base, ...o })).option, JSON.stringify(o)).toBe(option);
    }
    expect(await refusal({ ...base, ...sizes, num_frames: 17 })).toBeInstanceOf(RopeLimitError);
  });

  it('latents: malformed, the wrong rank or channels, a size that disagrees with them; seed with them', async () => {
    for (const [o, option] of [
      [{ latents: { data: new Float32Array(3), shape: [1, 4] } }, 'latents'],
      [{ latents: tensor([1, 4, 2, 4]) }, 'latents'],
      [{ latents: tensor([1, 3, 2, 4, 4]) }, 'latents'],
      [{ latents: tensor([2, 4, 2, 4, 4]) }, 'latents'],
      [{ latents: tensor([1, 4, 2, 4, 4]), height: 64 }, 'height'],
      [{ latents: tensor([1, 4, 2, 4, 4]), seed: 1 }, 'seed'],
    ] as const) {
      expect((await refusal({ ...base, ...o } as PipelineGenerateOptions)).option, JSON.stringify(o)).toBe(option);
    }
  });

  it('the text side and the rest: prompt_embeds, negative_prompt_embeds, prompt without an encoder, max_sequence_length, guidance_scale, steps, output_type, a callback, seed per item', async () => {
    for (const [o, option] of [
      [{ ...base, ...sizes, prompt_embeds: tensor([1, 8, 12]) }, 'prompt_embeds'],
      [{ ...base, ...sizes, guidance_scale: 5, negative_prompt_embeds: tensor([2, 8, 16]) }, 'negative_prompt_embeds'],
      [{ ...base, ...sizes, guidance_scale: 5 }, 'negative_prompt_embeds'],
      [{ ...sizes, prompt: 'a red circle', guidance_scale: 1 }, 'prompt'],
      [{ ...base, ...sizes, max_sequence_length: 0 }, 'max_sequence_length'],
      [{ ...base, ...sizes, guidance_scale: Number.NaN }, 'guidance_scale'],
      [{ ...base, ...sizes, num_inference_steps: 0 }, 'num_inference_steps'],
      [{ ...base, ...sizes, output_type: 'np' }, 'output_type'],
      [{ ...base, ...sizes, onStage: 3 }, 'onStage'],
      [{ ...base, ...sizes, seed: [1, 2] }, 'seed'],
      [{ ...base, ...sizes, scheduler: 'euler-ancestral' }, 'scheduler'],
    ] as const) {
      expect((await refusal(o as PipelineGenerateOptions)).option, JSON.stringify(o)).toBe(option);
    }
  });
});
