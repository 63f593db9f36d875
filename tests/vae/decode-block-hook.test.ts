// Vae.decode's onBlock (Pipeline.generate's and profilePipeline's onDecodeBlock): progress inside a decode's passes,
// so that the CLI shows where a long one is (a 256×256 generate was silent 7–26 s before its first frame, and its frame
// lines jumped 1, 2, 6, 9). Each pass reports its parts 1..parts in order; wanParts / klParts count them (a count off
// by one leaves the last part short of `parts`), after a part 0 as the pass begins; the last part comes after the pass's
// frames went to onProgress, so a line said at a pass's end counts only frames decoded. Small decodes: the embedded VAE at 32×32, sd_vae_small.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';
import '../../src/node-env.js'; // loadPipeline reads folders from paths
import { nodeFolder } from '../../src/io/node-source.js';
import { InputError } from '../../src/model/model.js';
import { loadPipeline, type Pipeline } from '../../src/pipeline/pipeline.js';
import { profilePipeline } from '../../src/profile/pipeline.js';
import { randn } from '../../src/random.js';
import { klParts, wanParts } from '../../src/vae/decoder.js';
import { loadVae, type Vae } from '../../src/vae/vae.js';
import type { KlVaeConfig, WanVaeConfig } from '../../src/vae/config.js';

/** The log a decode's hooks leave: `b P/N I/M` for onBlock, `f D/T` for onProgress. */
const hooks = (log: string[]) => ({
  onBlock: (pass: number, passes: number, part: number, parts: number) => void log.push(`b ${pass}/${passes} ${part}/${parts}`),
  onProgress: (done: number, total: number) => void log.push(`f ${done}/${total}`),
});

/** What the log must be: per pass, part 0 (it begins), its parts but the last, its frames, its last part (the read back). */
function expected(passes: { parts: number; frames: number[] }[], total: number): string[] {
  return passes.flatMap(({ parts, frames }, i) => [
    ...Array.from({ length: parts }, (_, k) => `b ${i + 1}/${passes.length} ${k}/${parts}`),
    ...frames.map((f) => `f ${f}/${total}`),
    `b ${i + 1}/${passes.length} ${parts}/${parts}`,
  ]);
}

describe.skipIf(!hasGpu)('Vae.decode onBlock', () => {
  let wan: Vae;
  let kl: Vae;
  beforeAll(async () => {
    wan = await loadVae(nodeFolder(join(ROOT, 'models', 'tessera-shapes', 'vae')), { gpu: gpu! });
    kl = await loadVae(nodeFolder(join(FIXTURES, 'sd_vae_small', 'vae')), { gpu: gpu! });
  });
  afterAll(() => {
    wan?.dispose();
    kl?.dispose();
  });

  it('Wan, 3 latent frames: pass 1 gives frame 1, passes 2 and 3 four each; every part in order, the read back after the frames', async () => {
    const c = wan.config as WanVaeConfig;
    const shape = [1, 16, 3, 4, 4];
    const log: string[] = [];
    await wan.decode({ data: randn(16 * 3 * 16, 3), shape }, hooks(log));
    // the later passes have more parts: their frames double at the temporal upsamplers
    expect(wanParts(c, 1)).toBeGreaterThan(wanParts(c, 0));
    expect(log).toEqual(expected([{ parts: wanParts(c, 0), frames: [1] }, { parts: wanParts(c, 1), frames: [2, 3, 4, 5] }, { parts: wanParts(c, 2), frames: [6, 7, 8, 9] }], 9));
  });

  it('Wan, 2 batch items decoded one at a time: passes run over the items, latent frame by latent frame', async () => {
    const c = wan.config as WanVaeConfig;
    const shape = [2, 16, 2, 4, 4];
    const plan = wan.plan(shape);
    const log: string[] = [];
    await wan.decode({ data: randn(2 * 16 * 2 * 16, 4), shape }, hooks(log));
    const groups = Math.ceil(2 / plan.images);
    const passes = Array.from({ length: groups * 2 }, (_, i) => ({ parts: wanParts(c, i % 2), frames: [] as number[] }));
    // the frames of a group's pass: one per item of the group (1 then 4 per latent frame), in layout order
    let done = 0;
    passes.forEach((p, i) => {
      const items = Math.min(plan.images, 2 - Math.floor(i / 2) * plan.images);
      p.frames = Array.from({ length: items * (i % 2 === 0 ? 1 : 4) }, () => ++done);
    });
    expect(done).toBe(10);
    expect(log).toEqual(expected(passes, 10));
  });

  it('KL (sd_vae_small): one pass of images, klParts parts', async () => {
    const c = kl.config as KlVaeConfig;
    const log: string[] = [];
    await kl.decode({ data: randn(4 * 8 * 8, 5), shape: [1, 4, 8, 8] }, hooks(log));
    expect(log).toEqual(expected([{ parts: klParts(c), frames: [1] }], 1));
  });

  it('a throwing onBlock fails the decode, named', async () => {
    const e = await wan
      .decode({ data: randn(16 * 16, 6), shape: [1, 16, 1, 4, 4] }, { onBlock: () => {
        throw new Error('boom');
      } })
      .catch((x: Error) => x);
    expect((e as Error).message).toBe(`Vae.decode, pass 1/1 part 0/${wanParts(wan.config as WanVaeConfig, 0)}: onBlock failed: boom`);
  });
});

describe.skipIf(!hasGpu)('Pipeline.generate / profilePipeline onDecodeBlock', () => {
  // the embedded tessera-shapes pipeline: 5 frames of 16×16 (2 latent frames), 1 step
  const small = { prompt: 'a red circle', seed: 1, height: 16, width: 16, num_frames: 5, num_inference_steps: 1 };
  let pipe: Pipeline;
  beforeAll(async () => {
    pipe = await loadPipeline(join(ROOT, 'models', 'tessera-shapes'), { gpu: gpu! });
  });
  afterAll(() => pipe?.dispose());
  const decodeLog = () => {
    const c = pipe.vae!.config as WanVaeConfig;
    return expected([{ parts: wanParts(c, 0), frames: [1] }, { parts: wanParts(c, 1), frames: [2, 3, 4, 5] }], 5);
  };

  it('generate: the decode stage passes, interleaved with onDecodeProgress; a non-function refused before any stage', async () => {
    const log: string[] = [];
    await expect(pipe.generate({ ...small, onDecodeBlock: 1 as never, onStage: (s) => void log.push(s) })).rejects.toThrow(new InputError('onDecodeBlock: a function, got 1', { option: 'onDecodeBlock' }));
    expect(log).toEqual([]);
    const h = hooks(log);
    await pipe.generate({ ...small, onStage: (s) => void log.push(s), onDecodeProgress: h.onProgress, onDecodeBlock: h.onBlock });
    expect(log).toEqual(['text', 'denoise', 'decode', ...decodeLog()]);
  }, 300_000);

  it('profilePipeline: the passes of the decode whose video it returns, none from the profiled re-runs', async () => {
    const log: string[] = [];
    const h = hooks(log);
    await profilePipeline(pipe, { ...small, onDecodeProgress: h.onProgress, onDecodeBlock: h.onBlock }, { repeats: 2 });
    expect(log).toEqual(decodeLog());
  }, 300_000);
});
