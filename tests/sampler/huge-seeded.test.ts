// generate() with a seeded `shape` checks the shape, then the sampler state's binding limit, and only then
// allocates the noise: a huge request is one InputError / LimitError, not 'RangeError: Invalid typed array
// length' from randn (81×4800×8320 latents are 5.2e10 values). A mock model: no GPU work may start.
import { describe, expect, it } from 'vitest';
import { generate } from '../../src/sampler/generate.js';
import { InputError, type DiffusionModel } from '../../src/model/model.js';
import { LimitError } from '../../src/model/memory.js';

const LIMITS = { maxStorageBufferBindingSize: 128 << 20, maxBufferSize: 256 << 20 };
const mock = (config: object): DiffusionModel =>
  ({
    family: (config as { family: string }).family,
    dtype: 'f32',
    config,
    gpu: { limits: LIMITS },
    resident: () => {
      throw new Error('GPU work started');
    },
    exclusive: () => {
      throw new Error('GPU work started');
    },
  }) as unknown as DiffusionModel;
const wan = mock({ family: 'wan', inChannels: 16, outChannels: 16, patch: [1, 2, 2], ropeMaxSeqLen: 1024, textDim: 4096 });
const dit = mock({ family: 'dit', inChannels: 4, outChannels: 8, patch: 2, numClasses: 1000 });

/** The rejection of generate(model, opts), and how much the process's memory grew meanwhile. */
async function refused(model: DiffusionModel, opts: object): Promise<{ e: Error; grew: number }> {
  const before = process.memoryUsage().rss;
  const e = await generate(model, { scheduler: 'flow-match-euler', num_inference_steps: 1, seed: 0, ...opts }).then(() => new Error('accepted'), (x: Error) => x);
  return { e, grew: process.memoryUsage().rss - before };
}

describe('a huge seeded shape is refused before its noise is allocated', () => {
  it('beyond Wan rope_max_seq_len: the InputError, not a RangeError', async () => {
    const { e, grew } = await refused(wan, { shape: [1, 16, 81, 4800, 8320] });
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toBe(
      "shape: [1,16,81,4800,8320] gives a grid of 81×2400×4160 (frames×height×width after patch_size 1×2×2), beyond config.json's rope_max_seq_len 1024 in height and width: " +
        "the 3-D RoPE has 1024 positions per axis (diffusers' WanRotaryPosEmbed); use latents of at most 1024×2048×2048 frames×height×width, or raise rope_max_seq_len in config.json",
    );
    expect(grew).toBeLessThan(256 * 2 ** 20);
  });

  it('a patch the size does not divide: the InputError first', async () => {
    const { e } = await refused(dit, { shape: [1, 4, 65537, 65537], class_labels: [1] });
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toBe('shape: height×width 65537×65537 must be divisible by the patch size 2 (config patch_size)');
  });

  it('within rope_max_seq_len but past the binding limit: the sampler-state LimitError', async () => {
    const { e, grew } = await refused(wan, { shape: [1, 16, 81, 2048, 2048], encoder_hidden_states: { data: new Float32Array(4096), shape: [1, 1, 4096] } });
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toBe(
      "the sampler state of FlowMatchEulerDiscreteScheduler (2 f32 slots of latents [1,16,81,2048,2048]: the guided model output, the sample) needs 40.50 GiB in one binding, above the adapter's maxStorageBufferBindingSize of 128.0 MiB: use fewer frames or a smaller resolution",
    );
    expect(grew).toBeLessThan(256 * 2 ** 20);
  });

  it('DiT: past the binding limit, the LimitError before the noise', async () => {
    const { e } = await refused(dit, { shape: [1, 4, 65536, 65536], class_labels: [1] });
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(/^the sampler state of FlowMatchEulerDiscreteScheduler \(2 f32 slots of latents \[1,4,65536,65536\]: .* needs 128\.00 GiB in one binding/);
  });
});
