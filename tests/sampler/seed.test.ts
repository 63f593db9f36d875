// Seeds, prompts, steps and scheduler names refused by the library before any GPU work, naming the
// option: generate() and Pipeline.generate() on stand-in models (no weights, no device).
import { describe, expect, it } from 'vitest';
import { InputError, type DiffusionModel } from '../../src/model/model.js';
import { isSeed, randn, rng, SEED_MAX, seedProblem } from '../../src/random.js';
import { generate } from '../../src/sampler/generate.js';
import { schedulerFromConfig, SchedulerConfigError } from '../../src/sampler/config.js';
import { createPipeline, latentShapeFor, pipelineInternals, type ModelIndex, type PromptEncoder } from '../../src/pipeline/pipeline.js';
import type { FolderSource } from '../../src/io/source.js';
import type { Gpu } from '../../src/gpu/device.js';
import { profilePipeline } from '../../src/profile/pipeline.js';
import type { Vae } from '../../src/vae/vae.js';
import { thrown } from '../helpers/errors.js';

const RANGE = 'an integer in 0..4294967295 (the noise generator\'s seed is 32 bits)';

describe('the noise generator\'s seeds', () => {
  it('are the integers 0..2^32 − 1: others alias one of them, so isSeed refuses them', () => {
    expect(SEED_MAX).toBe(2 ** 32 - 1);
    // why: the generator reads seed >>> 0
    expect(Array.from(randn(4, -1))).toEqual(Array.from(randn(4, 2 ** 32 - 1)));
    expect(Array.from(randn(4, 2 ** 32))).toEqual(Array.from(randn(4, 0)));
    expect(rng(1.5)()).toBe(rng(1)());
    for (const s of [0, 1, 12345, SEED_MAX]) expect(isSeed(s), String(s)).toBe(true);
    for (const s of [-1, 1.5, 2 ** 32, NaN, Infinity, '3', null]) expect(isSeed(s), String(s)).toBe(false);
    expect(seedProblem(7)).toBeUndefined();
    expect(seedProblem(-1)).toBe(`${RANGE}, got -1`);
    expect(seedProblem('3')).toBe(`${RANGE}, got "3"`);
  });
});

// generate() must refuse from the options alone: any GPU work fails the test
const model = {
  family: 'dit',
  dtype: 'f32',
  config: { family: 'dit', inChannels: 4, outChannels: 8, numClasses: 10 },
  gpu: { limits: { maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 1 << 30 } },
  resident: () => {
    throw new Error('GPU work started');
  },
  exclusive: (f: (m: unknown) => Promise<unknown>) => f(model),
} as unknown as DiffusionModel;
const seeded = { scheduler: schedulerFromConfig({ _class_name: 'DDIMScheduler' }), num_inference_steps: 2, shape: [1, 4, 4, 4], class_labels: [1] };
const refusal = async (o: object): Promise<Error> => generate(model, { ...seeded, ...o }).then(() => new Error('accepted'), (e: Error) => e);

describe('generate() refuses before any GPU work, naming its option', () => {
  it('a seed outside 0..2^32 − 1 (negative, fractional, too large, not a number)', async () => {
    for (const [seed, shown] of [[-1, '-1'], [1.5, '1.5'], [2 ** 32, '4294967296'], [NaN, 'NaN'], ['7', '"7"']] as const) {
      const e = await refusal({ seed });
      expect(e, shown).toBeInstanceOf(InputError);
      expect(e.message).toBe(`seed: ${RANGE}, got ${shown}`);
    }
    // the edges of the range pass the seed check (and reach the stand-in's GPU work)
    for (const seed of [0, SEED_MAX]) expect((await refusal({ seed })).message).toBe('GPU work started');
  });

  it('num_inference_steps that is not a positive integer is an InputError naming it', async () => {
    for (const n of [0, -3, 2.5]) {
      const e = await refusal({ num_inference_steps: n });
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toBe(`num_inference_steps: a positive integer, got ${n}`);
    }
  });

  it('an unknown scheduler name is named as the `scheduler` option, not the CLI flag', async () => {
    const e = await refusal({ scheduler: 'euler-a' });
    expect(e).toBeInstanceOf(SchedulerConfigError);
    expect(e.message).toMatch(/^scheduler: scheduler "euler-a" is not supported; supported: FlowMatchEulerDiscreteScheduler, /);
    expect(e.message).not.toContain('--scheduler');
    const n = await refusal({ scheduler: 42 });
    expect(n).toBeInstanceOf(InputError);
    expect(n.message).toBe('scheduler: a SchedulerSpec (schedulerFromConfig) or a class / short name, got 42');
    // NaN shown as itself (JSON.stringify wrote null)
    expect((await refusal({ scheduler: NaN })).message).toBe('scheduler: a SchedulerSpec (schedulerFromConfig) or a class / short name, got NaN');
  });
});

describe('generate() input tensors: refused before any GPU work, named as the caller named them', () => {
  // a Wan stand-in (text_dim 24) beside the DiT one above
  const wan = { ...model, family: 'wan', config: { family: 'wan', inChannels: 4, outChannels: 4, textDim: 24, patch: [1, 2, 2] } } as unknown as DiffusionModel;
  const f32 = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });
  const flow = { scheduler: schedulerFromConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler' }), num_inference_steps: 2 };
  const wanRefusal = (o: object): Promise<Error> => generate(wan, { ...flow, ...o }).then(() => new Error('accepted'), (e: Error) => e);

  it('text of another batch than the latents, with or without guidance: the tensors the caller gave, not the [cond; uncond] batch', async () => {
    const msg = 'encoder_hidden_states: expected [2, L, 24] (batch of latents [2,4,2,6,8], config text_dim), found [1,6,24]';
    for (const guidance_scale of [1, 4]) {
      const e = await wanRefusal({ latents: f32([2, 4, 2, 6, 8]), encoder_hidden_states: f32([1, 6, 24]), negative_encoder_hidden_states: f32([1, 6, 24]), guidance_scale });
      expect(e, `guidance ${guidance_scale}`).toBeInstanceOf(InputError);
      expect(e.message).toBe(msg);
    }
    const p = await wanRefusal({ shape: [2, 4, 2, 6, 8], prompt_embeds: f32([1, 6, 24]), negative_prompt_embeds: f32([1, 6, 24]), guidance_scale: 4 });
    expect(p.message).toBe('prompt_embeds: expected [2, L, 24] (batch of latents [2,4,2,6,8], config text_dim), found [1,6,24]');
    const w = await wanRefusal({ shape: [1, 4, 2, 6, 8], encoder_hidden_states: f32([1, 6, 16]) });
    expect(w.message).toBe('encoder_hidden_states: expected [1, L, 24] (batch of latents [1,4,2,6,8], config text_dim), found [1,6,16]');
    const n = await wanRefusal({ shape: [2, 4, 2, 6, 8], prompt_embeds: f32([2, 6, 24]), negative_prompt_embeds: f32([1, 6, 24]), guidance_scale: 4 });
    expect(n.message).toBe("negative_prompt_embeds: expected [2, L', 24] (the batch and width of prompt_embeds [2,6,24]; any length L'), found [1,6,24]");
    const c = await wanRefusal({ shape: [1, 4, 2, 6, 8], encoder_hidden_states: f32([1, 6, 24]), negative_encoder_hidden_states: { data: new Float32Array(143), shape: [1, 6, 24] }, guidance_scale: 4 });
    expect(c.message).toBe('negative_encoder_hidden_states: 143 values for shape [1,6,24], which needs 144');
    // the right batch passes the checks (and reaches the stand-in's GPU work)
    expect((await wanRefusal({ shape: [2, 4, 2, 6, 8], encoder_hidden_states: f32([2, 6, 24]), negative_encoder_hidden_states: f32([2, 3, 24]), guidance_scale: 4 })).message).toBe('GPU work started');
  });

  it('data of another array type than Float32Array is named, with what it is', async () => {
    const l = await wanRefusal({ latents: { data: new Float64Array(384), shape: [1, 4, 2, 6, 8] }, encoder_hidden_states: f32([1, 6, 24]) });
    expect(l).toBeInstanceOf(InputError);
    expect(l.message).toBe('latents: expected data as a Float32Array, got a Float64Array (Float32Array.from converts it)');
    const t = await wanRefusal({ shape: [1, 4, 2, 6, 8], prompt_embeds: { data: Array.from({ length: 144 }, () => 0), shape: [1, 6, 24] } });
    expect(t.message).toBe('prompt_embeds: expected data as a Float32Array, got an array (Float32Array.from converts it)');
    const m = await wanRefusal({ shape: [1, 4, 2, 6, 8] });
    expect(m.message).toBe('encoder_hidden_states: missing (text embeddings)');
  });

  it('DiT class_labels: numbers or bigint (a BigInt64Array, an Int32Array); the value, index and reason named', async () => {
    for (const class_labels of [new BigInt64Array([1n]), new Int32Array([1]), [1]]) {
      expect((await refusal({ class_labels, guidance_scale: 2 })).message, class_labels.constructor.name).toBe('GPU work started');
    }
    for (const [class_labels, msg] of [
      [new BigInt64Array([11n]), 'class_labels: value 11 at index 0 is out of range: expected 0…10 (10 = the null class used for guidance)'],
      [[2.5], 'class_labels: value 2.5 at index 0 is not an integer: expected 0…10 (10 = the null class used for guidance)'],
      [['3'], 'class_labels: value "3" at index 0 is not a number: expected 0…10 (10 = the null class used for guidance)'],
      [3, 'class_labels: expected a list of 1 class ids (numbers or bigint), got 3'],
      [[1, 2], 'class_labels: expected 1 class ids (batch of latents), found 2'],
    ] as const) {
      const e = await refusal({ class_labels });
      expect(e, String(class_labels)).toBeInstanceOf(InputError);
      expect(e.message).toBe(msg);
    }
  });
});

describe('Pipeline.generate() refuses before any GPU work, naming its option', () => {
  // a Wan-shaped stand-in: patch 1×2×2, VAE factors 8 / 4; neither the transformer nor the text encoder may be reached
  let encoded = 0;
  const transformer = { family: 'wan', config: { family: 'wan', inChannels: 4, outChannels: 4, patch: [1, 2, 2] } } as unknown as DiffusionModel;
  const pipe = createPipeline({ name: 'stand-in', className: 'WanPipeline', modelIndex: {} as ModelIndex, folder: {} as FolderSource, gpu: {} as Gpu, transformer, vae: undefined, schedulerConfig: {}, scheduler: schedulerFromConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler' }), vaeScale: { spatial: 8, temporal: 4 }, ownsGpu: false });
  pipelineInternals(pipe).textEncoder = {
    encodePrompt: async () => {
      encoded++;
      throw new Error('the text encoder ran');
    },
    dispose: () => {},
  } as unknown as PromptEncoder;
  const sizes = { height: 32, width: 32, num_frames: 5, num_inference_steps: 1, guidance_scale: 1 };
  const text = { data: new Float32Array(2 * 8 * 16), shape: [2, 8, 16] };
  const refusal = (o: object): Promise<Error> => pipe.generate({ ...sizes, ...o }).then(() => new Error('accepted'), (e: Error) => e);

  it('one seed, or a list (one per batch item), each in 0..2^32 − 1', async () => {
    for (const [seed, msg] of [
      [-1, `seed: ${RANGE}, got -1`],
      [1.5, `seed: ${RANGE}, got 1.5`],
      [2 ** 32, `seed: ${RANGE}, got 4294967296`],
      [[0, -1], `seed[1]: ${RANGE}, got -1`],
      [[0.5, 1], `seed[0]: ${RANGE}, got 0.5`],
      [[3, 99999999999999], `seed[1]: ${RANGE}, got 99999999999999`],
    ] as const) {
      const e = await refusal({ prompt: ['a', 'b'], seed });
      expect(e, JSON.stringify(seed)).toBeInstanceOf(InputError);
      expect(e.message).toBe(msg);
      const f = await refusal({ prompt_embeds: text, seed });
      expect(f.message).toBe(msg);
    }
    expect(encoded).toBe(0);
  });

  it('a prompt that is not a string or a non-empty list of strings', async () => {
    for (const [prompt, msg] of [
      [123, 'prompt: a string or a list of strings (one per batch item), got number 123'],
      [[], 'prompt: an empty list; give at least one prompt'],
      [['a red circle', 5], 'prompt[1]: a string, got number 5'],
    ] as const) {
      const e = await refusal({ prompt, seed: 0 });
      expect(e, JSON.stringify(prompt)).toBeInstanceOf(InputError);
      expect(e.message).toBe(msg);
    }
    const n = await refusal({ prompt: 'a red circle', negative_prompt: 7, guidance_scale: 5, seed: 0 });
    expect(n).toBeInstanceOf(InputError);
    expect(n.message).toBe('negative_prompt: a string or a list of strings (one per batch item), got number 7');
    expect(encoded).toBe(0);
  });

  it('the demo\'s profilePipeline refuses a bad seed before encoding the prompt', async () => {
    const withVae = createPipeline({ name: 'stand-in', className: 'WanPipeline', modelIndex: {} as ModelIndex, folder: {} as FolderSource, gpu: {} as Gpu, transformer, vae: {} as Vae, schedulerConfig: {}, scheduler: pipe.scheduler, vaeScale: { spatial: 8, temporal: 4 }, ownsGpu: false });
    pipelineInternals(withVae).textEncoder = pipe.textEncoder;
    const e = await profilePipeline(withVae, { ...sizes, prompt: 'a red circle', seed: -1 }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe(`seed: ${RANGE}, got -1`);
    expect(encoded).toBe(0);
  });
});

describe('latentShapeFor names each size as the caller does', () => {
  const c = { family: 'wan', inChannels: 16, patch: [1, 2, 2] } as never;
  const scale = { spatial: 8, temporal: 4 };
  const cli = { height: '--height', width: '--width', num_frames: '--frames' };
  it('diffusers\' names by default, the CLI\'s flags when given', () => {
    expect(latentShapeFor(c, scale, 2, { height: 32, width: 48, num_frames: 9 })).toEqual([2, 16, 3, 4, 6]);
    expect(thrown(() => latentShapeFor(c, scale, 1, { height: 32, width: 32, num_frames: 8 }), InputError).message).toBe('num_frames 8: must be 4k + 1 (VAE temporal factor 4), such as 9 or 5');
    expect(thrown(() => latentShapeFor(c, scale, 1, { height: 32, width: 32, num_frames: 8 }, cli), InputError).message).toBe('--frames 8: must be 4k + 1 (VAE temporal factor 4), such as 9 or 5');
    expect(thrown(() => latentShapeFor(c, scale, 1, { height: 30, width: 32, num_frames: 5 }, cli), InputError).message).toBe('--height 30: must be a multiple of 16 (VAE factor 8 × patch 2), such as 32 or 16');
    expect(thrown(() => latentShapeFor(c, scale, 1, { height: 32, width: 8, num_frames: 5 }, cli), InputError).message).toBe('--width 8: must be a multiple of 16 (VAE factor 8 × patch 2), such as 16');
    expect(thrown(() => latentShapeFor(c, scale, 1, { height: 0, width: 32, num_frames: 5 }, cli), InputError).message).toBe('--height: must be a positive integer, got 0');
  });
});
