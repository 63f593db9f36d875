// The Pipeline class a user sees (user review 20, finding 8): what loadPipeline gives and what they call, no
// plumbing. Its state is #private, its constructor private (pipelines come from loadPipeline; tessera's own code
// and tests use createPipeline), and the plumbing profilePipeline needs (exclusive, checkOpen, checkGenerate) and
// the slots loadPipeline fills (textEncoder, fixedDtype) are reached through pipelineInternals only.
// The shipped declarations are checked in tests/integration/package.test.ts.
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.js';
import type { FolderSource } from '../../src/io/source.js';
import type { DiffusionModel } from '../../src/model/model.js';
import { createPipeline, Pipeline, pipelineInternals, type ModelIndex, type PromptEncoder } from '../../src/pipeline/pipeline.js';
import { schedulerFromConfig } from '../../src/sampler/config.js';

const transformer = { family: 'wan', config: { family: 'wan', inChannels: 4, outChannels: 4, patch: [1, 2, 2], textDim: 16 }, dispose: () => {} } as unknown as DiffusionModel;
const encoder = { encodePrompt: async () => ({ data: new Float32Array(0), shape: [0] }), dispose: () => {} } as PromptEncoder;
const parts = { name: 'stand-in', className: 'WanPipeline', modelIndex: {} as ModelIndex, folder: {} as FolderSource, gpu: {} as Gpu, transformer, vae: undefined, schedulerConfig: {}, scheduler: schedulerFromConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler' }), vaeScale: { spatial: 8, temporal: 4 }, ownsGpu: false } as const;

describe('Pipeline: the public surface', () => {
  it('its own properties are the components and configs a user reads; its methods are the calls a user makes', () => {
    const pipe = createPipeline({ ...parts, textEncoder: encoder });
    expect(Object.keys(pipe).sort()).toEqual(['className', 'folder', 'gpu', 'modelIndex', 'name', 'scheduler', 'schedulerConfig', 'transformer', 'vae', 'vaeScale']);
    expect(Object.getOwnPropertyNames(Pipeline.prototype).sort()).toEqual(['constructor', 'dispose', 'encodePrompt', 'family', 'generate', 'get_label_ids', 'latentShape', 'resetPlans', 'textEncoder'].sort());
    expect(pipe.textEncoder).toBe(encoder);
    expect(pipe.family).toBe('wan');
  });

  it('textEncoder is read-only to users; loadPipeline\'s slots and the plumbing are behind pipelineInternals', async () => {
    const pipe = createPipeline(parts);
    expect(() => {
      (pipe as { textEncoder: PromptEncoder | undefined }).textEncoder = encoder;
    }).toThrow(TypeError);
    const inner = pipelineInternals(pipe);
    inner.textEncoder = encoder;
    expect(pipe.textEncoder).toBe(encoder);
    expect(inner.fixedDtype).toBe(false);
    expect(await inner.exclusive(async () => 7)).toBe(7);
    pipe.dispose();
    expect(() => inner.checkOpen()).toThrow(/^pipeline stand-in was disposed/);
  });

  it('is typed so (checked by tsc, not run)', () => {
    const typed = (pipe: Pipeline) => {
      // @ts-expect-error pipelines come from loadPipeline: the constructor is private
      void new Pipeline(parts);
      // @ts-expect-error plumbing, not on the public type
      void pipe.exclusive;
      // @ts-expect-error plumbing, not on the public type
      void pipe.checkGenerate;
      // @ts-expect-error the slot of session 20's surface, gone (the text encoder holds its tokenizer)
      void pipe.tokenizer;
      // @ts-expect-error read-only
      pipe.textEncoder = undefined;
    };
    expect(typeof typed).toBe('function');
  });
});
