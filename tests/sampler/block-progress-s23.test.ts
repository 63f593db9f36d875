// Session 23: progress inside a long denoising step. generate()'s onBlock(step, steps, block, blocks) reports each
// transformer block as it finishes on the device, in step 1 (tuning, compiling, a CPU driver's first dispatches) and in
// each step after one that took at least blockProgressMinMs(); those steps are submitted one command buffer per block
// (plan.ts blockEnds / submitParts) and must compute exactly what one submit computes. Nothing here is timed: the
// policy's threshold is set to 0 (every step) or Infinity (step 1 only) to pin which steps report.
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../src/node-env.js';
import { blockEnds } from '../../src/gpu/plan.js';
import { getPreset, loadRandomModel } from '../../src/model/presets.js';
import { InputError } from '../../src/model/model.js';
import { BLOCK_PROGRESS_MIN_MS, blockProgressMinMs, generate, setBlockProgressMinMs } from '../../src/sampler/generate.js';
import { blockDetail, DETAIL_EVERY_S, progressBar } from '../../src/cli/progress.js';
import { captureStderr, saveTerminalState } from '../helpers/stderr.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const at = (...layers: string[]) => layers.map((layer) => ({ layer }));

describe('blockEnds: where each transformer block of a recording ends', () => {
  it('Wan: blocks.N; the embeddings go with the first block, the head with the last', () => {
    expect(blockEnds(at('patch_embedding', 'condition_embedder', 'blocks.0.attn1', 'blocks.0.ffn', 'blocks.1', 'blocks.1.attn2', '', 'scale_shift_table'))).toEqual([4, 8]);
  });
  it('DiT and Latte: transformer_blocks.N; Latte\'s temporal block N counts with its spatial block N', () => {
    expect(blockEnds(at('pos_embed', 'transformer_blocks.0', 'transformer_blocks.1.attn1', 'transformer_blocks.1'))).toEqual([2, 4]);
    expect(blockEnds(at('transformer_blocks.0', 'temporal_transformer_blocks.0.attn1', 'transformer_blocks.1', 'temporal_transformer_blocks.1', 'proj_out'))).toEqual([2, 5]);
  });
  it('block 10 is not block 1 (blocks.10 vs blocks.1); no block layer: one part; no dispatch: none', () => {
    expect(blockEnds(at('blocks.1', 'blocks.10', 'blocks.10.ffn', 'blocks.11'))).toEqual([1, 3, 4]);
    expect(blockEnds(at('pos_embed', 'proj_out', 'myblocks.0'))).toEqual([3]);
    expect(blockEnds([])).toEqual([]);
  });
});

describe('the denoising bar inside a step', () => {
  const restore = saveTerminalState();
  afterEach(() => {
    vi.restoreAllMocks();
    restore();
  });
  it('blockDetail: the step under way and its blocks', () => {
    expect(blockDetail(1, 12, 30)).toBe('step 1: block 12/30');
  });
  it('on a terminal: every update drawn, with the detail after the count; a shorter line pads over the longer one', () => {
    process.env.TESSERA_STDERR_TTY = '80';
    const out = captureStderr();
    const bar = progressBar('denoising');
    bar.update(0, 20, blockDetail(1, 12, 30));
    bar.update(1, 20);
    expect(out[0]).toMatch(/^\rdenoising \[\.{30}\] 0\/20 {2}step 1: block 12\/30 {2}\d+\.\d s elapsed$/);
    expect(out[1]).toMatch(/^\rdenoising \[#{2}\.{28}\] 1\/20 {2}\d+\.\d s elapsed {21}$/); // '  step 1: block 12/30' is 21 characters
  });
  it(`off a terminal: a detail line only ${DETAIL_EVERY_S} s after the bar's last line (before any, its first detail); the step lines as before`, () => {
    delete process.env.TESSERA_STDERR_TTY;
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    let now = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const out = captureStderr();
    const bar = progressBar('denoising');
    now += 60_000; // the text encoder, say: the clock starts at the first detail
    bar.update(0, 20, blockDetail(1, 1, 30));
    now += DETAIL_EVERY_S * 1000 - 1;
    bar.update(0, 20, blockDetail(1, 3, 30)); // too soon after the first detail
    now += 1;
    bar.update(0, 20, blockDetail(1, 4, 30));
    now += 5000;
    bar.update(0, 20, blockDetail(1, 5, 30)); // too soon after the last line
    bar.update(1, 20); // a step: always
    now += DETAIL_EVERY_S * 1000;
    bar.update(1, 20, blockDetail(2, 30, 30));
    expect(out).toEqual(['denoising 0/20  step 1: block 4/30  70.0 s elapsed\n', 'denoising 1/20  75.0 s elapsed\n', 'denoising 1/20  step 2: block 30/30  85.0 s elapsed\n']);
  });

  it('off a terminal with plainEvery (the decode bar): the first update and the last always, as before', () => {
    delete process.env.TESSERA_STDERR_TTY;
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    let now = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const out = captureStderr();
    const bar = progressBar('decoding frames', { plainEvery: 1 });
    bar.update(1, 9);
    now += 500;
    bar.update(2, 9);
    bar.update(9, 9);
    expect(out).toEqual(['decoding frames 1/9  0.0 s elapsed\n', 'decoding frames 9/9  0.5 s elapsed\n']);
  });
});

const L = 7;
const emb = (seed: number, len = L) => ({ data: Float32Array.from({ length: len * 64 }, (_, i) => Math.sin(i * 0.3 + seed)), shape: [1, len, 64] });

/** `f` on a fresh wan-tiny model (random weights, seed 1), disposed after. */
async function withTiny(f: (model: Awaited<ReturnType<typeof loadRandomModel>>) => Promise<void>): Promise<void> {
  const model = await loadRandomModel(getPreset('wan-tiny').config, { gpu: gpu!, dtype: 'f32', seed: 1 });
  try {
    await f(model);
  } finally {
    model.dispose();
  }
}

describe.skipIf(!hasGpu)('generate(): onBlock', () => {
  afterEach(() => setBlockProgressMinMs(BLOCK_PROGRESS_MIN_MS));
  const call = (negLen = L) => ({ scheduler: 'unipc', seed: 3, shape: [1, 16, 2, 4, 6], num_inference_steps: 3, guidance_scale: 5, prompt_embeds: emb(1), negative_prompt_embeds: emb(2, negLen) });

  it('step 1 reports its blocks in order, the later steps only past the threshold; the latents are those of one submit a step', async () => {
    await withTiny(async (model) => {
      const plain = await generate(model, call());
      const events: string[] = [];
      const hooks = { onStep: (s: number, n: number) => void events.push(`step ${s}/${n}`), onBlock: (s: number, n: number, b: number, bs: number) => void events.push(`${s}/${n} block ${b}/${bs}`) };
      setBlockProgressMinMs(Infinity);
      const first = await generate(model, { ...call(), ...hooks });
      expect(events).toEqual(['1/3 block 1/2', '1/3 block 2/2', 'step 1/3', 'step 2/3', 'step 3/3']); // wan-tiny: 2 layers, one CFG pass
      events.length = 0;
      setBlockProgressMinMs(0);
      const every = await generate(model, { ...call(), ...hooks });
      expect(events).toEqual([1, 2, 3].flatMap((s) => [`${s}/3 block 1/2`, `${s}/3 block 2/2`, `step ${s}/3`]));
      expect(Buffer.from(first.latents.data.buffer).equals(Buffer.from(plain.latents.data.buffer))).toBe(true);
      expect(Buffer.from(every.latents.data.buffer).equals(Buffer.from(plain.latents.data.buffer))).toBe(true);
    });
  }, 240_000);

  it('two CFG passes (negative text of another length): the blocks of both, in order; the same latents', async () => {
    await withTiny(async (model) => {
      const plain = await generate(model, call(5));
      const blocks: string[] = [];
      setBlockProgressMinMs(0);
      const split = await generate(model, { ...call(5), num_inference_steps: 3, onBlock: (s, _n, b, bs) => void blocks.push(`${s}:${b}/${bs}`) });
      expect(blocks).toEqual([1, 2, 3].flatMap((s) => [1, 2, 3, 4].map((b) => `${s}:${b}/4`)));
      expect(Buffer.from(split.latents.data.buffer).equals(Buffer.from(plain.latents.data.buffer))).toBe(true);
    });
  }, 240_000);

  it('a hook that throws fails the run naming it and the step; not a function: InputError; the threshold setter checks', async () => {
    await withTiny(async (model) => {
      await expect(generate(model, { ...call(), onBlock: () => { throw new Error('boom'); } })).rejects.toThrow(/^generate, step 1\/3: onBlock failed: boom/);
      const e = await generate(model, { ...call(), onBlock: 3 as never }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).option).toBe('onBlock');
      // the model is free again after the failed run
      expect((await generate(model, { ...call(), num_inference_steps: 1 })).latents.shape).toEqual([1, 16, 2, 4, 6]);
    });
    expect(() => setBlockProgressMinMs(-1)).toThrow(InputError);
    expect(() => setBlockProgressMinMs(NaN)).toThrow(InputError);
    expect(blockProgressMinMs()).toBe(BLOCK_PROGRESS_MIN_MS);
  }, 240_000);
});
