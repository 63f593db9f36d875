// Pipeline.generate as a library user calls it, on the embedded tessera-shapes pipeline (32×32, 9 frames):
// concurrent calls give what sequential ones give; calls after dispose() throw DisposedError; unknown
// options, options of another pipeline class and conflicting inputs are refused naming the caller's
// option; the size checks (sampler state, transformer, VAE) refuse before the text encoder runs, in the
// caller's units (pixels, or the latents given); embeddedPipelinePath finds the shipped folder.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { DisposedError } from '../../src/gpu/serial.js';
import { LimitError } from '../../src/model/memory.js';
import { InputError } from '../../src/model/model.js';
import { embeddedPipelinePath } from '../../src/pipeline/embedded-node.js';
import { closestOption, createPipeline, latentShapeFor, loadPipeline, type Pipeline, PipelineError, type ModelIndex } from '../../src/pipeline/pipeline.js';
import type { Gpu } from '../../src/gpu/device.js';
import type { FolderSource } from '../../src/io/source.js';
import type { ModelConfig } from '../../src/model/config.js';
import type { DiffusionModel } from '../../src/model/model.js';
import { schedulerFromConfig } from '../../src/sampler/config.js';
import type { Umt5TextEncoder } from '../../src/text/prompt-encoder.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { pipelineFixture, SHAPES_DIR } from '../helpers/pipeline-fixture.js';

const P1 = 'a red circle moving left';
const P2 = 'a blue square moving up';
const size = { height: 32, width: 32, num_frames: 9 };
// the calls that run to the end make a one-frame clip: what they check is the calls' order, queueing and results, not
// the clip, and one latent frame decodes in about a ninth of the VAE work of 9 frames (most of a call's time)
const clip = { height: 32, width: 32, num_frames: 1 };
const latents = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });
const MiB = 2 ** 20;

describe('option names', () => {
  it('the closest option: another case style, every word of it, an alias, a near spelling; none for a stranger', () => {
    const names = ['prompt', 'negative_prompt', 'prompt_embeds', 'num_inference_steps', 'num_frames', 'guidance_scale', 'seed', 'maxMemory', 'dtype', 'textEncoder'];
    expect(closestOption('steps', names)).toBe('num_inference_steps');
    expect(closestOption('numInferenceSteps', names)).toBe('num_inference_steps');
    expect(closestOption('num_inference_step', names)).toBe('num_inference_steps');
    expect(closestOption('frames', names)).toBe('num_frames');
    expect(closestOption('guidance', names)).toBe('guidance_scale');
    expect(closestOption('generator', names)).toBe('seed');
    expect(closestOption('max_memory', names)).toBe('maxMemory');
    expect(closestOption('text_encoder', names)).toBe('textEncoder');
    expect(closestOption('dtyp', names)).toBe('dtype');
    expect(closestOption('xyzzy', names)).toBeUndefined();
  });

  it('loadPipeline refuses an unknown option and a dtype other than f32 / f16 before reading anything', async () => {
    const missing = join(ROOT, 'no-such-pipeline');
    const typo = await loadPipeline(missing, { dtyp: 'f16' } as never).catch((e) => e);
    expect(typo).toBeInstanceOf(InputError);
    expect(typo.message).toBe('dtyp: not an option of loadPipeline; did you mean dtype? (options: gpu, device, dtype, vae, maxMemory, preflight, textEncoder, onProgress, variant, onWarning, signal, unexpectedKeys, fixedDtype)');
    const f64 = await loadPipeline(missing, { dtype: 'f64' } as never).catch((e) => e);
    expect(f64).toBeInstanceOf(InputError);
    expect(f64.message).toBe(`dtype: 'f32' or 'f16', got "f64"`);
  });
});

describe('the other pipeline classes (stand-ins: refused before any component is reached)', () => {
  const standIn = (cls: 'DiTPipeline' | 'LattePipeline', config: Record<string, unknown>) =>
    createPipeline({ name: 'stand-in', className: cls, modelIndex: {} as ModelIndex, folder: {} as FolderSource, gpu: {} as Gpu, transformer: { family: config.family, config } as unknown as DiffusionModel, vae: undefined, schedulerConfig: {}, scheduler: schedulerFromConfig({ _class_name: 'DDIMScheduler' }), vaeScale: { spatial: 8, temporal: 1 }, ownsGpu: false });

  it('DiT takes class_labels, not text or frames', async () => {
    const dit = standIn('DiTPipeline', { family: 'dit', inChannels: 4, outChannels: 8, patch: 2, sampleSize: 4, numClasses: 10 });
    for (const [o, msg] of [
      [{ prompt: 'a cat', class_labels: [1] }, 'prompt: DiTPipeline is class-conditional; give class_labels (ImageNet class ids) instead'],
      [{ class_labels: [1], prompt_embeds: latents([1, 2, 4]) }, 'prompt_embeds: DiTPipeline is class-conditional; give class_labels (ImageNet class ids) instead'],
      [{ class_labels: [1], num_frames: 9 }, 'num_frames: DiTPipeline makes images; leave num_frames out'],
      [{ class_labels: [] }, 'class_labels: a non-empty list or typed array of class ids (one per batch item), got []'],
    ] as const) {
      const e = await dit.generate({ ...o, output_type: 'latent' } as never).catch((x: Error) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toBe(msg);
    }
  });

  it('Latte: num_frames is its video_length or 1 (named as the caller named it)', () => {
    const c = { family: 'latte', inChannels: 4, patch: 2, videoLength: 16 } as unknown as ModelConfig;
    expect(latentShapeFor(c, { spatial: 8, temporal: 1 }, 1, { height: 32, width: 32, num_frames: 16 })).toEqual([1, 4, 16, 4, 4]);
    expect(latentShapeFor(c, { spatial: 8, temporal: 1 }, 1, { height: 32, width: 32, num_frames: 1 })).toEqual([1, 4, 1, 4, 4]);
    expect(() => latentShapeFor(c, { spatial: 8, temporal: 1 }, 1, { height: 32, width: 32, num_frames: 9 })).toThrow(
      new InputError("num_frames 9: the Latte transformer's temporal position embedding has video_length 16 frames; use 16 or 1", { option: 'num_frames' }),
    );
    expect(() => latentShapeFor(c, { spatial: 8, temporal: 1 }, 1, { height: 32, width: 32, num_frames: 9 }, { height: '--height', width: '--width', num_frames: '--frames' })).toThrow(/^--frames 9: /);
  });
});

describe('embeddedPipelinePath', () => {
  it('is the shipped models/tessera-shapes folder; a package without it is named', () => {
    expect(embeddedPipelinePath()).toBe(SHAPES_DIR);
    expect(existsSync(join(embeddedPipelinePath(), 'model_index.json'))).toBe(true);
    const e = (() => {
      try {
        return embeddedPipelinePath('/nowhere');
      } catch (x) {
        return x as Error;
      }
    })();
    expect(e).toBeInstanceOf(PipelineError);
    expect((e as Error).message).toBe('/nowhere/models/tessera-shapes/model_index.json: missing, so there is no embedded pipeline in this install (the package ships models/tessera-shapes); load a pipeline folder of your own');
  });
});

describe.skipIf(!hasGpu)('Pipeline.generate on the embedded pipeline', () => {
  let pipe: Pipeline;
  pipelineFixture((p) => (pipe = p), {}, 120_000);

  /** The error a call is refused with, and the stages it reached. */
  const refused = async (o: Record<string, unknown>) => {
    const stages: string[] = [];
    const e = await pipe.generate({ ...o, onStage: (s) => stages.push(s) }).then(() => new Error('accepted'), (x: Error) => x);
    return { e, stages };
  };

  it('concurrent calls give what the same calls give one after another', async () => {
    const a = { prompt: P1, seed: 1, ...clip, num_inference_steps: 4 };
    const b = { prompt: P2, seed: 2, ...clip, num_inference_steps: 4 };
    const seq = [await pipe.generate(a), await pipe.generate(b)];
    const stages: string[] = [];
    const par = await Promise.all([pipe.generate({ ...a, onStage: (s) => stages.push(`a ${s}`) }), pipe.generate({ ...b, onStage: (s) => stages.push(`b ${s}`) })]);
    // one call at a time, in call order: the second starts after the first has decoded
    expect(stages).toEqual(['a text', 'a denoise', 'a decode', 'b text', 'b denoise', 'b decode']);
    for (let i = 0; i < 2; i++) {
      expect(par[i]!.video!.shape).toEqual([1, 1, 32, 32, 3]);
      expect(Array.from(par[i]!.latents.data)).toEqual(Array.from(seq[i]!.latents.data));
      expect(Array.from(par[i]!.video!.data)).toEqual(Array.from(seq[i]!.video!.data));
    }
    // the two prompts do make different clips (the comparison above would catch a swap)
    expect(Array.from(seq[0]!.latents.data)).not.toEqual(Array.from(seq[1]!.latents.data));
    // prompt_embeds without negative_prompt_embeds: the negative prompt ("") is encoded, as WanPipeline.encode_prompt does
    const embeds = await pipe.encodePrompt([P1], 512);
    // the text encoder's own call form gives the same rows
    expect(Array.from((await pipe.encodePrompt(P1, { max_sequence_length: 512 })).data)).toEqual(Array.from(embeds.data));
    await expect(pipe.encodePrompt(P1, { maxSequenceLength: 16 } as never)).rejects.toThrow('maxSequenceLength: not an option of encodePrompt; did you mean max_sequence_length? (options: max_sequence_length)');
    const own: string[] = [];
    const viaEmbeds = await pipe.generate({ prompt_embeds: embeds, seed: 1, ...clip, num_inference_steps: 4, onStage: (s) => own.push(s) });
    expect(own).toEqual(['text', 'denoise', 'decode']);
    expect(Array.from(viaEmbeds.latents.data)).toEqual(Array.from(seq[0]!.latents.data));
  }, 300_000);

  it('unknown options and the other pipeline classes\' options are refused, naming the closest option', async () => {
    const list = 'prompt, negative_prompt, prompt_embeds, negative_prompt_embeds, class_labels, latents, seed, height, width, num_frames, num_inference_steps, guidance_scale, max_sequence_length, output_type, scheduler, shift, onStep, onStepProfile, onBlock, onStage, onDecodeProgress, onDecodeBlock, onKernels, signal';
    for (const [k, near] of [['steps', 'num_inference_steps'], ['num_inference_step', 'num_inference_steps'], ['numInferenceSteps', 'num_inference_steps'], ['negativePrompt', 'negative_prompt']] as const) {
      const { e, stages } = await refused({ prompt: P1, ...size, [k]: 4 });
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toBe(`${k}: not an option of Pipeline.generate; did you mean ${near}? (options: ${list})`);
      expect(stages).toEqual([]);
    }
    const odd = await refused({ prompt: P1, ...size, xyzzy: 1 });
    expect(odd.e.message).toBe(`xyzzy: not an option of Pipeline.generate (options: ${list})`);
    // a load option names the loader; values of the wrong type are quoted; callbacks that are not functions
    const dtype = await refused({ prompt: P1, ...size, dtype: 'f16' });
    expect(dtype.e.message).toBe(`dtype: not an option of Pipeline.generate but of loadPipeline (options: ${list})`);
    for (const [o, msg] of [
      [{ num_inference_steps: '2' }, 'num_inference_steps: a positive integer, got "2"'],
      [{ height: '32' }, 'height: must be a positive integer, got "32"'],
      [{ guidance_scale: NaN }, 'guidance_scale: a finite number, got NaN'],
      [{ onStep: 5 }, 'onStep: a function, got 5'],
      [{ seed: 1n }, 'seed: an integer in 0..4294967295 (the noise generator\'s seed is 32 bits), got the bigint 1n'],
    ] as const) {
      const r = await refused({ prompt: P1, seed: 1, ...size, ...o });
      expect(r.e, msg).toBeInstanceOf(InputError);
      expect(r.e.message).toBe(msg);
      expect(r.stages).toEqual([]);
    }
    const stage = await pipe.generate({ prompt: P1, seed: 1, ...size, onStage: 'x' } as never).then(() => new Error('accepted'), (x: Error) => x);
    expect(stage).toBeInstanceOf(InputError);
    expect(stage.message).toBe('onStage: a function, got "x"');
    const labels = await refused({ prompt: P1, ...size, class_labels: [1] });
    expect(labels.e).toBeInstanceOf(InputError);
    expect(labels.e.message).toBe("class_labels: WanPipeline is text-conditional; give prompt or prompt_embeds (class_labels are DiTPipeline's)");
  });

  it('latents and text embeddings are checked as given, named by the option, before any stage', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ prompt: P1, latents: latents([1, 16, 3, 8, 9]) }, "latents [1,16,3,8,9]: frames×height×width 3×8×9 must be multiples of the transformer's patch 1×2×2"],
      [{ prompt: [P1, P2], latents: latents([1, 16, 3, 8, 8]) }, 'latents: a batch of 1 in [1,16,3,8,8] for 2 prompts'],
      [{ prompt_embeds: latents([1, 512, 31]), ...size, seed: 0 }, "prompt_embeds: expected [B, L, 64] (B prompts, L tokens, the transformer's text_dim 64), found [1,512,31]"],
      [{ prompt_embeds: latents([1, 512, 64]), negative_prompt_embeds: latents([2, 512, 64]), ...size, seed: 0 }, "negative_prompt_embeds: expected [1, L', 64] (the batch and width of prompt_embeds [1,512,64]; any length L'), found [2,512,64]"],
      [{ prompt: P1, negative_prompt: 'x', negative_prompt_embeds: latents([1, 512, 64]), ...size }, 'give negative_prompt or negative_prompt_embeds, not both'],
      [{ prompt_embeds: { data: new Float32Array(3), shape: [1, 2, 64] }, ...size }, 'prompt_embeds: 3 values for shape [1,2,64], which needs 128'],
    ];
    for (const [o, msg] of cases) {
      const { e, stages } = await refused(o);
      expect(e, msg).toBeInstanceOf(InputError);
      expect(e.message).toBe(msg);
      expect(stages).toEqual([]);
    }
  });

  it('latents and sizes that disagree are refused naming both; sizes that agree are accepted', async () => {
    const l = latents([1, 16, 3, 8, 8]);
    for (const [k, v, msg] of [
      ['height', 64, 'height 64 disagrees with latents [1,16,3,8,8], which make height 32 (8 latent rows × VAE factor 4): leave height out or give 32'],
      ['width', 16, 'width 16 disagrees with latents [1,16,3,8,8], which make width 32 (8 latent columns × VAE factor 4): leave width out or give 32'],
      ['num_frames', 5, 'num_frames 5 disagrees with latents [1,16,3,8,8], which make num_frames 9 (3 latent frames: (3 − 1) × VAE temporal factor 4 + 1): leave num_frames out or give 9'],
    ] as const) {
      const { e, stages } = await refused({ prompt: P1, latents: l, [k]: v });
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toBe(msg);
      expect(stages).toEqual([]);
    }
    const seeded = await refused({ prompt: P1, latents: l, seed: 3 });
    expect(seeded.e.message).toBe('seed: give seed (with the output size) or latents, not both: latents are the initial noise a seed would make');
    const ok = await pipe.generate({ prompt: P1, latents: l, ...size, num_inference_steps: 1, output_type: 'latent' });
    expect(ok.latents.shape).toEqual([1, 16, 3, 8, 8]);
  }, 120_000);

  it('runs that cannot fit are refused before the text encoder, in the caller\'s sizes, with what fits', async () => {
    const te = pipe.textEncoder as Umt5TextEncoder;
    const encoded = te.encodedCount;
    const lim = gpu!.limits;
    const perBinding = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    const lavapipe = perBinding === 128 * MiB; // the exact figures of this machine's adapter
    // the sampler state holds 6 latent-sized f32 slots (UniPC, order 2): enough prompts to exceed any binding
    const n = Math.max(5000, Math.ceil(perBinding / (6 * 4 * 16 * 3 * 8 * 8)) + 1);
    const many = await refused({ prompt: new Array(n).fill(P1), seed: 1, ...size, num_inference_steps: 4 });
    expect(many.e).toBeInstanceOf(LimitError);
    expect(many.stages).toEqual([]);
    expect(many.e.message.startsWith(`${n} prompts at height×width 32×32 × 9 frames (latents [${n},16,3,8,8]) does not fit: the sampler state (UniPCMultistepScheduler: 6 f32 copies of the latents) needs `)).toBe(true);
    // (the batch search is time-boxed: thousands of items make slow dry runs on an adapter with large bindings)
    if (lavapipe) expect(many.e.message).toBe('5000 prompts at height×width 32×32 × 9 frames (latents [5000,16,3,8,8]) does not fit: the sampler state (UniPCMultistepScheduler: 6 f32 copies of the latents) needs 351.6 MiB in one binding, above the adapter\'s maxStorageBufferBindingSize of 128.0 MiB; at most 256 prompts fit at this size');

    // past transformer/config.json's rope_max_seq_len (1024 latent frames): the model's own limit, in the caller's sizes, before any fit search
    const rope = await refused({ prompt: P1, seed: 1, height: 32, width: 32, num_frames: 100001, num_inference_steps: 4 });
    expect(rope.e).toBeInstanceOf(InputError);
    expect(rope.stages).toEqual([]);
    expect(rope.e.message).toBe("height×width 32×32 × 100001 frames (latents [1,16,25001,8,8]) gives a grid of 25001×4×4 (latent frames×height×width after patch_size 1×2×2), beyond transformer/config.json's rope_max_seq_len 1024 in frames: the 3-D RoPE has 1024 positions per axis (diffusers' WanRotaryPosEmbed); use at most 4093 frames (latent frames (frames − 1)/4 + 1 ≤ 1024), or raise rope_max_seq_len in transformer/config.json");
    const ropeLat = await refused({ prompt: P1, latents: latents([1, 16, 1025, 8, 8]), num_inference_steps: 4 });
    expect(ropeLat.e).toBeInstanceOf(InputError);
    expect(ropeLat.stages).toEqual([]);
    expect(ropeLat.e.message).toBe("latents [1,16,1025,8,8] gives a grid of 1025×4×4 (latent frames×height×width after patch_size 1×2×2), beyond transformer/config.json's rope_max_seq_len 1024 in frames: the 3-D RoPE has 1024 positions per axis (diffusers' WanRotaryPosEmbed); use latents of at most 1024×2048×2048 latent frames×height×width, or raise rope_max_seq_len in transformer/config.json");

    // the most frames within that limit, over the memory: the searches probe within the request
    const long = await refused({ prompt: P1, seed: 1, height: 256, width: 256, num_frames: 4093, num_inference_steps: 4 });
    expect(long.e).toBeInstanceOf(LimitError);
    expect(long.stages).toEqual([]);
    expect(long.e.message.startsWith('height×width 256×256 × 4093 frames (latents [1,16,1024,64,64]) does not fit: ')).toBe(true);
    if (lavapipe) expect(long.e.message).toBe("height×width 256×256 × 4093 frames (latents [1,16,1024,64,64]) does not fit: the sampler state (UniPCMultistepScheduler: 6 f32 copies of the latents) needs 1.50 GiB in one binding, above the adapter's maxStorageBufferBindingSize of 128.0 MiB; at most 337 frames fit at height×width 256×256; at most height×width 72×72 fits at 4093 frames");

    const big = await refused({ prompt: P1, seed: 1, height: 8192, width: 8192, num_frames: 81, num_inference_steps: 4 });
    expect(big.e).toBeInstanceOf(LimitError);
    expect(big.stages).toEqual([]);
    expect(big.e.message.startsWith('height×width 8192×8192 × 81 frames (latents [1,16,21,2048,2048]) does not fit: the sampler state')).toBe(true);
    expect(big.e.message).toMatch(/; at most height×width (\d+)×\1 fits at 81 frames$/);
    if (lavapipe) expect(big.e.message).toBe("height×width 8192×8192 × 81 frames (latents [1,16,21,2048,2048]) does not fit: the sampler state (UniPCMultistepScheduler: 6 f32 copies of the latents) needs 31.50 GiB in one binding, above the adapter's maxStorageBufferBindingSize of 128.0 MiB; no frame count fits at height×width 8192×8192; at most height×width 512×512 fits at 81 frames");

    // given latents are named as given
    const lat = await refused({ prompt: P1, latents: latents([1, 16, 1024, 64, 64]), num_inference_steps: 4 });
    expect(lat.e).toBeInstanceOf(LimitError);
    expect(lat.stages).toEqual([]);
    expect(lat.e.message).toMatch(/^latents \[1,16,1024,64,64\] does not fit: .*; at most \d+ latent frames fit at this height×width; at most latents \[1,16,1024,\d+,\d+\] fit at 1024 latent frames$/);
    if (lavapipe) expect(lat.e.message).toBe("latents [1,16,1024,64,64] does not fit: the sampler state (UniPCMultistepScheduler: 6 f32 copies of the latents) needs 1.50 GiB in one binding, above the adapter's maxStorageBufferBindingSize of 128.0 MiB; at most 85 latent frames fit at this height×width; at most latents [1,16,1024,18,18] fit at 1024 latent frames");
    expect(te.encodedCount).toBe(encoded);
  }, 120_000);

  it('after dispose() every later call throws DisposedError; calls made before it (running or queued) finish', async () => {
    const own = await loadPipeline(SHAPES_DIR, { gpu: gpu! });
    const first = own.generate({ prompt: P1, seed: 1, ...clip, num_inference_steps: 2 });
    const queued = own.generate({ prompt: P2, seed: 2, ...clip, num_inference_steps: 2 });
    own.dispose(); // at once, before either call has started: a caller cannot tell queued from running
    const msg = `pipeline ${SHAPES_DIR} was disposed: load it again to use it`;
    expect((await first).video!.shape).toEqual([1, 1, 32, 32, 3]);
    expect((await queued).video!.shape).toEqual([1, 1, 32, 32, 3]);
    for (const call of [() => own.generate({ prompt: P1, seed: 1, ...size }), () => own.encodePrompt([P1], 16)]) {
      const e = await call().catch((x) => x);
      expect(e).toBeInstanceOf(DisposedError);
      expect(e.message).toBe(msg);
    }
    expect(() => own.resetPlans()).toThrow(DisposedError);
    own.dispose(); // twice: nothing more to free
  }, 120_000);
});

describe.skipIf(!hasGpu)('the text encoder\'s own memory', () => {
  it('an encode that cannot fit its budget is refused before the text stage, as the encoder words it', async () => {
    const pipe = await loadPipeline(SHAPES_DIR, { gpu: gpu!, textEncoder: { maxMemory: 4 * MiB } });
    try {
      const te = pipe.textEncoder as Umt5TextEncoder;
      // 64 distinct prompts, the longest 144 tokens (rounded up to 16): ~30 MiB of activations
      const prompts = Array.from({ length: 64 }, (_, i) => `${P1} ${'x '.repeat(i)}`);
      const stages: string[] = [];
      const e = await pipe.generate({ prompt: prompts, seed: 1, ...size, num_inference_steps: 1, onStage: (s) => stages.push(s) }).then(() => new Error('accepted'), (x: Error) => x);
      expect(e).toBeInstanceOf(LimitError);
      expect(stages).toEqual([]);
      expect(e.message).toMatch(/^the text encoder \(2 layers, d_model 64, resident\) encoding 64×144 tokens needs [\d.]+ MiB on the GPU \(.*\); above the budget of 4\.0 MiB \(maxMemory\): /);
      expect(te.encodedCount).toBe(0);
      // one prompt fits that budget and runs
      const ok = await pipe.generate({ prompt: P1, seed: 1, ...clip, num_inference_steps: 1 });
      expect(ok.video!.shape).toEqual([1, 1, 32, 32, 3]);
    } finally {
      pipe.dispose();
    }
  }, 180_000);
});
