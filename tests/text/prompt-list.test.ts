// One prompt check (promptList) for the text encoder's encodePrompt and Pipeline.generate: the same
// InputError wording from both, naming the option and what was given (no weights, no device).
import { describe, expect, it } from 'vitest';
import { InputError, type DiffusionModel } from '../../src/model/model.js';
import { promptList, Umt5TextEncoder } from '../../src/text/prompt-encoder.js';
import type { T5Tokenizer } from '../../src/text/tokenizer.js';
import type { Umt5Encoder } from '../../src/text/umt5.js';
import { createPipeline, pipelineInternals, type ModelIndex } from '../../src/pipeline/pipeline.js';
import { schedulerFromConfig } from '../../src/sampler/config.js';
import type { FolderSource } from '../../src/io/source.js';
import type { Gpu } from '../../src/gpu/device.js';
import { thrown } from '../helpers/errors.js';

const LIST = 'a string or a list of strings (one per batch item)';

describe('promptList', () => {
  it('takes a string as a one-prompt list and a non-empty list of strings as is', () => {
    expect(promptList('a red circle', 'prompt')).toEqual(['a red circle']);
    expect(promptList(['a', ''], 'prompt')).toEqual(['a', '']);
  });

  it('refuses anything else with one wording, naming the option and what was given', () => {
    for (const [v, msg] of [
      [123, `prompt: ${LIST}, got number 123`],
      [null, `prompt: ${LIST}, got null`],
      [undefined, `prompt: ${LIST}, got undefined`],
      [{ text: 'a' }, `prompt: ${LIST}, got object {"text":"a"}`],
      [[], 'prompt: an empty list; give at least one prompt'],
      [['a', 5], 'prompt[1]: a string, got number 5'],
      [['a', 'b', null], 'prompt[2]: a string, got null'],
    ] as const) {
      expect(thrown(() => promptList(v, 'prompt'), InputError).message, JSON.stringify(v)).toBe(msg);
    }
  });
});

describe('encodePrompt and Pipeline.generate word a bad prompt alike', () => {
  // neither the tokenizer nor the encoder may be reached
  const untouchable = new Proxy({}, { get: (_, k) => (k === 'folder' ? { name: 'stand-in' } : () => { throw new Error('the encoder ran'); }) });
  const enc = new Umt5TextEncoder(untouchable as T5Tokenizer, untouchable as Umt5Encoder, false);
  const transformer = { family: 'wan', config: { family: 'wan', inChannels: 4, outChannels: 4, patch: [1, 2, 2] } } as unknown as DiffusionModel;
  const pipe = createPipeline({ name: 'stand-in', className: 'WanPipeline', modelIndex: {} as ModelIndex, folder: {} as FolderSource, gpu: {} as Gpu, transformer, vae: undefined, schedulerConfig: {}, scheduler: schedulerFromConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler' }), vaeScale: { spatial: 8, temporal: 4 }, ownsGpu: false });
  pipelineInternals(pipe).textEncoder = enc;
  const sizes = { height: 32, width: 32, num_frames: 5, num_inference_steps: 1, seed: 0 };

  it('the same message, the option named as each call names it', async () => {
    for (const [v, tail] of [
      [123, `: ${LIST}, got number 123`],
      [[], ': an empty list; give at least one prompt'],
      [['a', 5], '[1]: a string, got number 5'],
    ] as const) {
      const e = await enc.encodePrompt(v as unknown as string).catch((x: unknown) => x);
      expect(e, JSON.stringify(v)).toBeInstanceOf(InputError);
      expect((e as Error).message).toBe(`prompts${tail}`);
      const g = await pipe.generate({ ...sizes, prompt: v as unknown as string }).catch((x: unknown) => x);
      expect(g, JSON.stringify(v)).toBeInstanceOf(InputError);
      expect((g as Error).message).toBe(`prompt${tail}`);
      const n = await pipe.generate({ ...sizes, prompt: 'a', negative_prompt: v as unknown as string, guidance_scale: 5 }).catch((x: unknown) => x);
      expect(n, JSON.stringify(v)).toBeInstanceOf(InputError);
      expect((n as Error).message).toBe(`negative_prompt${tail}`);
    }
  });
});
