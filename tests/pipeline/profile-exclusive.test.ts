// profilePipeline holds its pipeline (Pipeline.exclusive) as one generate() call does: a generate()
// on the same pipeline made while a profile runs waits for it, and both give what they give alone.
// The profile's transformer replay and decode reuse the plans and buffers of that pipeline's loop
// and decode, so a generate() run in between its stages could corrupt either result.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { DisposedError } from '../../src/gpu/serial.js';
import { loadPipeline, type Pipeline, type PipelineOutput } from '../../src/pipeline/pipeline.js';
import { profilePipeline, type ProfiledGeneration } from '../../src/profile/pipeline.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');
// a one-frame clip of the embedded pipeline (what is checked is the order of the calls and their results, not the
// clip: one latent frame decodes in a ninth of the VAE work of 9 frames, the most of each call's time); guidance > 1
// so the negative prompt's encode and CFG are in
const A = { prompt: 'a red circle moving left', seed: 1, height: 32, width: 32, num_frames: 1, num_inference_steps: 2, guidance_scale: 3 };
const B = { ...A, prompt: 'a blue square moving up', seed: 2 };
const PROFILE = { repeats: 1, forceWallClock: true };

const same = (x: PipelineOutput, y: PipelineOutput, what: string) => {
  expect(Array.from(x.latents.data), `${what} latents`).toEqual(Array.from(y.latents.data));
  expect(Array.from(x.video!.data), `${what} video`).toEqual(Array.from(y.video!.data));
};

describe.skipIf(!hasGpu)('profilePipeline and generate() on one pipeline', () => {
  let pipe: Pipeline;
  let alone: { gen: PipelineOutput; prof: ProfiledGeneration };
  beforeAll(async () => {
    pipe = await loadPipeline(DIR, { gpu: gpu! });
    alone = { gen: await pipe.generate(A), prof: await profilePipeline(pipe, B, PROFILE) };
    // the two calls make different clips (a swap would be caught)
    expect(Array.from(alone.gen.latents.data)).not.toEqual(Array.from(alone.prof.output.latents.data));
  }, 300_000);
  afterAll(() => pipe?.dispose());

  it('a generate() made while the profile replays its transformer step waits for the profile; both as alone', async () => {
    const events: string[] = [];
    let gen: Promise<PipelineOutput> | undefined;
    const prof = profilePipeline(pipe, B, {
      ...PROFILE,
      onStage: (s) => {
        events.push(`profile ${s}`);
        // made after the profile's own denoising loop is queued: it must not run between its stages
        if (s === 'transformer') setTimeout(() => (gen = pipe.generate({ ...A, onStage: (g) => events.push(`generate ${g}`) })), 0);
      },
    });
    const p = await prof;
    const g = await gen!;
    expect(events).toEqual(['profile text_encoder', 'profile transformer', 'profile vae', 'generate text', 'generate denoise', 'generate decode']);
    same(p.output, alone.prof.output, 'profile');
    same(g, alone.gen, 'generate');
  }, 300_000);

  it('a profile started while a generate() runs waits for it; both as alone', async () => {
    const events: string[] = [];
    const [g, p] = await Promise.all([
      pipe.generate({ ...A, onStage: (s) => events.push(`generate ${s}`) }),
      profilePipeline(pipe, B, { ...PROFILE, onStage: (s) => events.push(`profile ${s}`) }),
    ]);
    expect(events).toEqual(['generate text', 'generate denoise', 'generate decode', 'profile text_encoder', 'profile transformer', 'profile vae']);
    same(p.output, alone.prof.output, 'profile');
    same(g, alone.gen, 'generate');
  }, 300_000);

  it('after dispose() a profile is a DisposedError', async () => {
    const other = await loadPipeline(DIR, { gpu: gpu! });
    other.dispose();
    const e = await profilePipeline(other, B, PROFILE).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DisposedError);
    expect((e as Error).message).toBe(`pipeline ${other.name} was disposed: load it again to use it`);
  }, 120_000);
});
