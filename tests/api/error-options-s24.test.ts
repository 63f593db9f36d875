// Session 23 library review (/work/notes/user23-lib.md) findings 2–4 and the bench review's "did you mean" for a
// preset: every generate() InputError names its option in e.option (shift with UniPC, no latents, shape against
// latents, the negative text's width, two names for one input; NaN latents named `latents`, not the transformer's
// `hidden_states`); readSafetensors of a missing file, encodeGif/encodePng and writeMp4Ffmpeg's argument refusals
// are documented classes (FileAccessError, InputError), not Node's raw ENOENT, a plain Error or the "no usable
// ffmpeg" EncoderError; generate()'s ignored-scheduler-keys warning is said once per model; guidance_scale -2 runs
// unguided as in diffusers, its note saying so. A mock model: no GPU
// work may start (every refusal comes before it).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { generate, negativeUnusedNote, SAID_KEPT, type GenerateOptions } from '../../src/sampler/generate.js';
import { InputError, type DiffusionModel } from '../../src/model/model.js';
import { getPreset } from '../../src/model/presets.js';
import { readSafetensors } from '../../src/io/read-safetensors.js';
import { FileAccessError } from '../../src/io/source.js';
import { encodeGif, encodePng, latentsToFrames } from '../../src/preview/preview.js';
import { EncoderError, writeMp4Ffmpeg } from '../../src/video/ffmpeg.js';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { demoCommand } from '../../src/cli/cmd-demo.js';
import { thrown } from '../helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-s24-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mock = (): DiffusionModel =>
  ({
    family: 'wan',
    dtype: 'f32',
    config: { family: 'wan', inChannels: 4, outChannels: 4, patch: [1, 2, 2], ropeMaxSeqLen: 1024, textDim: 8 },
    gpu: { limits: { maxStorageBufferBindingSize: 128 << 20, maxBufferSize: 256 << 20 } },
    resident: () => {
      throw new Error('GPU work started');
    },
    exclusive: () => {
      throw new Error('GPU work started');
    },
  }) as unknown as DiffusionModel;

const tensor = (shape: number[], fill = 0.5) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill), shape });
const base: GenerateOptions = { scheduler: 'flow-match-euler', num_inference_steps: 1, latents: tensor([1, 4, 1, 2, 2]), encoder_hidden_states: tensor([1, 3, 8]) };

async function refusal(o: object, model = mock()): Promise<InputError> {
  const e = await generate(model, { ...base, ...o } as GenerateOptions).then(() => new Error('accepted'), (x: Error) => x);
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

describe('generate(): every InputError names its option in e.option', () => {
  it.each([
    ['shift with UniPC (no use_flow_sigmas)', { scheduler: 'unipc', shift: 2 }, 'shift', /^shift sets the shift of flow-matching schedules .* not UniPCMultistepScheduler, whose flow_shift applies only with use_flow_sigmas true/],
    ['no latents and no shape', { latents: undefined }, 'latents', /^latents: missing; give `latents`, or `shape`/],
    ['shape against latents', { shape: [1, 4, 1, 2, 4] }, 'shape', /^latents \[1,4,1,2,2\] and shape \[1,4,1,2,4\] disagree/],
    ['the negative text of another width', { guidance_scale: 5, negative_encoder_hidden_states: tensor([1, 3, 6]) }, 'negative_encoder_hidden_states', /^negative_encoder_hidden_states: expected \[1, L', 8\]/],
    ['two names for the text', { prompt_embeds: tensor([1, 3, 8]) }, 'prompt_embeds', /^encoder_hidden_states and prompt_embeds are the same input/],
    ['NaN latents: named latents, not hidden_states', { latents: tensor([1, 4, 1, 2, 2], NaN) }, 'latents', /^latents: value at flat index 0 is not finite \(NaN\)$/],
    ['Infinity in prompt_embeds: named as given', { encoder_hidden_states: undefined, prompt_embeds: tensor([1, 3, 8], Infinity) }, 'prompt_embeds', /^prompt_embeds: value at flat index 0 is not finite \(Infinity\)$/],
    ['a NaN negative text', { guidance_scale: 5, negative_prompt_embeds: tensor([1, 2, 8], NaN) }, 'negative_prompt_embeds', /^negative_prompt_embeds: value at flat index 0/],
    ['seeded shape the patch does not divide: named shape', { latents: undefined, shape: [1, 4, 1, 3, 2] }, 'shape', /^shape: frames×height×width 1×3×2 must be divisible/],
    ['seeded shape past rope_max_seq_len', { latents: undefined, shape: [1, 4, 1, 4096, 2] }, 'shape', /^shape: \[1,4,1,4096,2\] gives a grid/],
    ['latents of another channel count', { latents: tensor([1, 3, 1, 2, 2]) }, 'latents', /^latents: expected 4 channels/],
    ['text of another width', { encoder_hidden_states: tensor([1, 3, 6]) }, 'encoder_hidden_states', /^encoder_hidden_states: expected \[1, L, 8\]/],
    ['latents data of another type', { latents: { data: new Float64Array(16), shape: [1, 4, 1, 2, 2] } }, 'latents', /^latents: expected data as a Float32Array/],
  ])('%s', async (_, o, option, message) => {
    const e = await refusal(o);
    expect(e.option).toBe(option);
    expect(e.message).toMatch(message);
  });
});

describe("generate(): the scheduler config's ignored-keys warning once per model", () => {
  it('a second identical call on the same model says nothing; another model says it again', async () => {
    const config = { _class_name: 'FlowMatchEulerDiscreteScheduler', num_train_timesteps: 1000, shift: 1, frobnicate: 3 };
    const lines: string[] = [];
    const o = { scheduler: undefined, scheduler_config: config, onWarning: (l: string) => void lines.push(l), encoder_hidden_states: undefined };
    const a = mock();
    // refused after the schedule took the config (no text): the warning is said, no GPU work starts
    for (let i = 0; i < 3; i++) expect((await refusal(o, a)).option).toBe('encoder_hidden_states');
    expect(lines).toEqual(["warning: scheduler_config: frobnicate is not a FlowMatchEulerDiscreteScheduler config key: ignored (as diffusers' from_config does)"]);
    await refusal({ ...o, scheduler_config: { ...config, other: 1 } }, a);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^warning: scheduler_config: frobnicate, other are not/);
    await refusal(o, mock());
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe(lines[0]);
  });

  it('a model remembers its last SAID_KEPT lines: an older one is said again (memory bounded in a long-lived process)', async () => {
    const lines: string[] = [];
    const a = mock();
    const call = (key: string) => refusal({ scheduler: undefined, scheduler_config: { _class_name: 'FlowMatchEulerDiscreteScheduler', [key]: 1 }, onWarning: (l: string) => void lines.push(l), encoder_hidden_states: undefined }, a);
    for (let i = 0; i <= SAID_KEPT; i++) await call(`k${i}`);
    expect(lines).toHaveLength(SAID_KEPT + 1);
    await call(`k${SAID_KEPT}`); // the newest: remembered
    expect(lines).toHaveLength(SAID_KEPT + 1);
    await call('k0'); // the oldest: dropped, said again
    expect(lines).toHaveLength(SAID_KEPT + 2);
  });
});

describe('I/O and encoder refusals are documented classes', () => {
  it('readSafetensors of a missing file: a FileAccessError naming the path (errno ENOENT), not Node\'s raw error', async () => {
    for (const path of [join(dir, 'none.safetensors'), join(dir, 'no-folder', 'x.safetensors')]) {
      const e = await readSafetensors(path).then(() => null, (x: unknown) => x as FileAccessError);
      expect(e).toBeInstanceOf(FileAccessError);
      expect(e!.code).toBe('ERR_FILE_ACCESS');
      expect(e!.errno).toBe('ENOENT');
      expect(e!.message).toBe(`${path}: no such file (readSafetensors expects a .safetensors file at this path)`);
    }
  });

  it('encodeGif, encodePng and latentsToFrames: InputError, fps and upscale in e.option', () => {
    const frame = new Uint8ClampedArray(16);
    expect(thrown(() => encodeGif([frame], 2, 2, { fps: -1 }), InputError).option).toBe('fps');
    expect(thrown(() => encodeGif([], 2, 2), InputError).message).toBe('encodeGif: no frames');
    expect(thrown(() => encodeGif([frame], 0, 2), InputError).message).toBe('encodeGif frame 0: width and height must be integers in [1, 65535], got 0x2');
    expect(thrown(() => encodePng(new Uint8ClampedArray(15), 2, 2), InputError).message).toBe('encodePng: frame has 15 bytes, 2x2 RGBA needs 16');
    expect(thrown(() => latentsToFrames(new Float32Array(4), [4, 1, 1], 'dit', { upscale: 0 }), InputError).option).toBe('upscale');
    expect(thrown(() => latentsToFrames(new Float32Array(5), [4, 1, 1], 'dit'), InputError).code).toBe('ERR_INPUT');
  });

  it('writeMp4Ffmpeg fps -1 or crf 99: an InputError on the option before ffmpeg starts, not the "no usable ffmpeg" EncoderError', async () => {
    // an ffmpeg that cannot be started: a refusal after the spawn would be its EncoderError
    const none = { path: join(dir, 'no-ffmpeg-here'), version: 'none' };
    const clip = { width: 2, height: 2, frames: [new Uint8ClampedArray(16)] };
    for (const [opts, option] of [[{ fps: -1 }, 'fps'], [{ fps: 8, crf: 99 }, 'crf']] as const) {
      const e = await writeMp4Ffmpeg(none, join(dir, 'x.mp4'), clip, opts).then(() => null, (x: unknown) => x as InputError);
      expect(e).toBeInstanceOf(InputError);
      expect(e).not.toBeInstanceOf(EncoderError);
      expect(e!.option).toBe(option);
    }
    const e = await writeMp4Ffmpeg(none, join(dir, 'x.mp4'), { ...clip, frames: [new Uint8ClampedArray(15)] }, { fps: 8 }).then(() => null, (x: unknown) => x as Error);
    expect(e).toBeInstanceOf(InputError);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('a mistyped preset: did you mean', () => {
  it('getPreset (library) and --preset (CLI choice flags)', () => {
    expect(thrown(() => getPreset('wan-tiyn'), InputError).message).toBe('unknown preset "wan-tiyn"; did you mean wan-tiny? presets: dit-s-2, dit-xl-2, wan-1.3b, wan-14b, latte-1, wan-tiny, dit-tiny');
    expect(thrown(() => getPreset('zzz'), InputError).message).toBe('unknown preset "zzz"; presets: dit-s-2, dit-xl-2, wan-1.3b, wan-14b, latte-1, wan-tiny, dit-tiny');
    expect(thrown(() => parseArgs(demoCommand.spec, ['--preset', 'wan-tiyn']), UsageError).message).toBe(
      '--preset must be one of dit-s-2, dit-xl-2, wan-1.3b, wan-14b, latte-1, wan-tiny, dit-tiny, got "wan-tiyn" (did you mean wan-tiny?)',
    );
    expect(thrown(() => parseArgs(demoCommand.spec, ['--preset', 'zzz']), UsageError).message).toBe('--preset must be one of dit-s-2, dit-xl-2, wan-1.3b, wan-14b, latte-1, wan-tiny, dit-tiny, got "zzz"');
  });
});

// guidance_scale below 1, negative included (-2): diffusers' pipelines run it unguided without a word
// (do_classifier_free_guidance = guidance_scale > 1), and so does generate(): not refused, no negative text needed.
// Given negative text anyway, the one note names the scale and says it disables classifier-free guidance as
// diffusers' do_classifier_free_guidance. The mock's GPU refusal shows every check passed.
const GPU_STARTED = 'GPU work started';
/** generate()'s outcome (the mock's GPU_STARTED refusal when every check passed) and the lines it said. */
async function run(o: Partial<GenerateOptions>): Promise<{ error: string; lines: string[] }> {
  const lines: string[] = [];
  const e = await generate(mock(), { ...base, ...o, onWarning: (l) => void lines.push(l) }).then(() => new Error('finished'), (x: Error) => x);
  return { error: e.message, lines };
}

describe('guidance_scale ≤ 1, negative included', () => {
  it('the note says the scale disables classifier-free guidance, as diffusers', () => {
    expect(negativeUnusedNote('negative_prompt', -2)).toBe("note: negative_prompt unused: guidance_scale -2 ≤ 1 disables classifier-free guidance (as diffusers' do_classifier_free_guidance, guidance_scale > 1); give guidance_scale > 1 to use it");
    expect(negativeUnusedNote('negative_prompt_embeds', 0.5)).toMatch(/^note: negative_prompt_embeds unused: guidance_scale 0\.5 ≤ 1 disables classifier-free guidance \(as diffusers' do_classifier_free_guidance, guidance_scale > 1\); give guidance_scale > 1 to use them$/);
  });

  it('-2 without negative text: accepted, unguided, nothing said (a scale > 1 would need the negative text)', async () => {
    expect(await run({ guidance_scale: -2 })).toEqual({ error: GPU_STARTED, lines: [] });
    expect((await run({ guidance_scale: 2 })).error).toMatch(/^negative_encoder_hidden_states: missing; guidance 2 > 1 needs the negative text embeddings/);
  });

  it('-2 with negative text: accepted, the one note names -2', async () => {
    const r = await run({ guidance_scale: -2, negative_prompt_embeds: tensor([1, 3, 8]) });
    expect(r.error).toBe(GPU_STARTED);
    expect(r.lines).toEqual([negativeUnusedNote('negative_prompt_embeds', -2)]);
    expect(r.lines[0]).toContain('guidance_scale -2 ≤ 1 disables classifier-free guidance');
  });
});
