// generate() refuses a sampler state above the adapter's per-binding limit, naming that limit: the smaller of
// maxStorageBufferBindingSize and maxBufferSize (model/memory.ts bindingLimit), as the pipeline's refusal does.
// It always named maxStorageBufferBindingSize and gave its size, also where maxBufferSize was the smaller.
import { describe, expect, it } from 'vitest';
import type { DiffusionModel } from '../../src/model/model.js';
import { generate } from '../../src/sampler/generate.js';
import { schedulerFromConfig } from '../../src/sampler/config.js';
import { LimitError } from '../../src/model/memory.js';

/** A stand-in model with these limits: generate() must refuse from the config, shapes and limits alone. */
const model = (limits: { maxStorageBufferBindingSize: number; maxBufferSize: number }) =>
  ({
    family: 'dit',
    dtype: 'f32',
    config: { family: 'dit', inChannels: 4, outChannels: 8, numClasses: 10 },
    gpu: { limits },
    resident: () => {
      throw new Error('GPU work started');
    },
  }) as unknown as DiffusionModel;

const refusal = (m: DiffusionModel) =>
  generate(m, { scheduler: schedulerFromConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler' }), num_inference_steps: 2, latents: { data: new Float32Array(16384), shape: [1, 4, 64, 64] }, class_labels: [1] }).catch((e: unknown) => e);

describe('the sampler state above the per-binding limit', () => {
  const state = 'the sampler state of FlowMatchEulerDiscreteScheduler (2 f32 slots of latents [1,4,64,64]: the guided model output, the sample) needs 128.0 KiB in one binding';
  it('names maxBufferSize and its size where it is the smaller limit', async () => {
    const e = await refusal(model({ maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 64 << 10 }));
    expect(e).toBeInstanceOf(LimitError);
    expect((e as Error).message).toBe(`${state}, above the adapter's maxBufferSize of 64.0 KiB: use fewer frames or a smaller resolution`);
  });
  it('names maxStorageBufferBindingSize where it is the smaller (or equal) limit', async () => {
    for (const maxBufferSize of [1 << 30, 64 << 10]) {
      const e = await refusal(model({ maxStorageBufferBindingSize: 64 << 10, maxBufferSize }));
      expect((e as Error).message).toBe(`${state}, above the adapter's maxStorageBufferBindingSize of 64.0 KiB: use fewer frames or a smaller resolution`);
    }
  });
});
