// loadPipeline's maxMemory holds each stage of generate() (PipelineLoadOptions.maxMemory): the VAE decode
// too (loadVae's maxMemory), refused before any stage runs with the stage, the figures and what to change;
// the text encoder's encodes too, unless textEncoder gives its own. On the embedded tessera-shapes pipeline.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../helpers/golden.js';
import { fmtBytes } from '../../src/gpu/tensor.js';
import { LimitError } from '../../src/model/memory.js';
import { loadPipeline, pipelineInternals, type Pipeline, type PipelineGenerateOptions } from '../../src/pipeline/pipeline.js';
import type { Umt5TextEncoder } from '../../src/text/prompt-encoder.js';
import { flagNames } from '../../src/cli/errors.js';
import { cli, tempDir } from '../hardening/helpers.js';
import { existsSync } from 'node:fs';
import { nodeFolder } from '../../src/io/node-source.js';

const SHAPES = join(ROOT, 'models', 'tessera-shapes');
// tessera-shapes: VAE factor 4, patch 1×2×2; 64×64 × 9 frames is latents [1,16,3,16,16]
const BIG = { prompt: 'a red circle moving left', seed: 0, height: 64, width: 64, num_frames: 9, num_inference_steps: 1, max_sequence_length: 16 } satisfies PipelineGenerateOptions;

/** What a decode of `shape` needs on this pipeline's VAE (weights + peak activations). */
async function decodeNeed(pipe: Pipeline, shape: number[]): Promise<{ weights: number; activations: number; total: number }> {
  const m = await pipe.vae!.decodeMemory(shape);
  return { ...m, total: m.weights + m.activations };
}

describe.skipIf(!hasGpu)('loadPipeline maxMemory and the VAE decode', () => {
  it('a decode over the budget is refused before any stage runs, naming the stage, the figures and what fits', async () => {
    const free = await loadPipeline(nodeFolder(SHAPES), { gpu: gpu! });
    let big: Awaited<ReturnType<typeof decodeNeed>>;
    let frames: number[];
    let fits56: number;
    try {
      expect(free.vae!.maxMemory).toBeUndefined();
      big = await decodeNeed(free, [1, 16, 3, 16, 16]);
      fits56 = (await decodeNeed(free, [1, 16, 3, 14, 14])).total;
      frames = [(await decodeNeed(free, [1, 16, 1, 16, 16])).total, (await decodeNeed(free, [1, 16, 2, 16, 16])).total];
    } finally {
      free.dispose();
    }
    // one byte short of 64×64 × 9 frames (the transformer's own need at this size is below it)
    const budget = big.total - 1;
    expect(fits56).toBeLessThanOrEqual(budget);
    const fewer = frames[1]! <= budget ? 'at most 5 frames fit at height×width 64×64' : frames[0]! <= budget ? 'at most 1 frame fits at height×width 64×64' : 'no frame count fits at height×width 64×64';
    const pipe = await loadPipeline(nodeFolder(SHAPES), { gpu: gpu!, maxMemory: budget });
    try {
      expect(pipe.vae!.maxMemory).toBe(budget);
      const stages: string[] = [];
      const te = pipe.textEncoder as Umt5TextEncoder;
      const e = await pipe.generate({ ...BIG, onStage: (s) => stages.push(s) }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(LimitError);
      const f16 = pipe.gpu.f16 ? "; loading the pipeline with dtype 'f16' halves the VAE's bytes" : '';
      const line =
        `height×width 64×64 × 9 frames (latents [1,16,3,16,16]) does not fit: the VAE decode (stage 'decode', after the denoising loop) needs ${fmtBytes(big.total)} on the GPU ` +
        `(VAE weights ${fmtBytes(big.weights)}, frames, caches and scratch ${fmtBytes(big.activations)}), above the maxMemory budget of ${fmtBytes(budget)}; ` +
        `at most height×width 56×56 fits at 9 frames; ${fewer}${f16}; or a larger maxMemory budget (${big.total} bytes or more)`;
      expect((e as Error).message).toBe(line);
      expect(stages).toEqual([]); // not even the text stage ran
      expect(te.encodedCount).toBe(0);
      // loadPipeline's fixedDtype (the CLI's demo, which takes no --dtype): the same line without the dtype way out
      pipelineInternals(pipe).fixedDtype = true;
      expect(((await pipelineInternals(pipe).checkGenerate(BIG).catch((x: unknown) => x)) as Error).message).toBe(line.replace(f16, ''));
      pipelineInternals(pipe).fixedDtype = false;
      // the CLI's words for the same line (generate --pipeline's and demo's)
      expect(flagNames(line)).toBe(
        line
          .replace('above the maxMemory budget', 'above the --max-memory budget')
          .replace("loading the pipeline with dtype 'f16'", '--dtype f16')
          .replace(`a larger maxMemory budget (${big.total} bytes or more)`, `give --max-memory ${big.total} or more`),
      );
      // latents given: named as latents
      const given = await pipe.generate({ ...BIG, seed: undefined, height: undefined, width: undefined, num_frames: undefined, latents: { data: new Float32Array(16 * 3 * 16 * 16), shape: [1, 16, 3, 16, 16] } }).catch((x: unknown) => x);
      expect(given).toBeInstanceOf(LimitError);
      expect((given as Error).message).toMatch(/^latents \[1,16,3,16,16\] does not fit: the VAE decode \(stage 'decode', after the denoising loop\) needs .*; at most latents \[1,16,3,14,14\] fit; /);
      // output_type 'latent' never decodes: not refused
      expect((await pipe.generate({ ...BIG, output_type: 'latent' })).latents.shape).toEqual([1, 16, 3, 16, 16]);
      // a call queued behind a running one is refused at once, not when its turn comes
      let first = false;
      const running = pipe.generate({ ...BIG, height: 32, width: 32, num_inference_steps: 2 }).then((r) => ((first = true), r));
      const queued = await pipe.generate(BIG).catch((x: unknown) => x);
      expect((queued as Error).message).toBe(line);
      expect(first).toBe(false);
      // what the message says fits, runs
      expect((await running).video!.shape).toEqual([1, 9, 32, 32, 3]);
      expect((await pipe.generate({ ...BIG, height: 56, width: 56 })).video!.shape).toEqual([1, 9, 56, 56, 3]);
    } finally {
      pipe.dispose();
    }
  }, 300_000);

  it('the text encoder is held to the budget unless textEncoder gives its own; resident as without one', async () => {
    const pipe = await loadPipeline(nodeFolder(SHAPES), { gpu: gpu!, maxMemory: '64MiB' });
    const own = await loadPipeline(nodeFolder(SHAPES), { gpu: gpu!, maxMemory: '64MiB', textEncoder: { maxMemory: 2 ** 30 } });
    const none = await loadPipeline(nodeFolder(SHAPES), { gpu: gpu! });
    try {
      const opts = (p: Pipeline) => (p.textEncoder as Umt5TextEncoder).encoder.options;
      expect(opts(pipe).maxMemory).toBe(64 * 2 ** 20);
      expect(opts(pipe).stream).toBe(false);
      expect(opts(own).maxMemory).toBe(2 ** 30);
      expect(opts(none).maxMemory).toBeUndefined();
      for (const p of [pipe, own, none]) expect((p.textEncoder as Umt5TextEncoder).encoder.mode).toBe('resident');
    } finally {
      pipe.dispose();
      own.dispose();
      none.dispose();
    }
  }, 300_000);
});

describe.skipIf(!hasGpu)('tessera generate --pipeline --max-memory', () => {
  it('a decode over the budget: exit 1, one line in the CLI\'s terms, nothing written', async () => {
    const out = join(tempDir(), 'never.safetensors');
    const r = await cli(['generate', '--pipeline', SHAPES, '--prompt', 'a red circle moving left', '--seed', '0', '--height', '64', '--width', '64', '--frames', '9', '--steps', '1', '--max-memory', '12MiB', '--out', out]);
    expect(r.code).toBe(1);
    const errors = r.errLines.filter((l) => l.startsWith('tessera: error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^tessera: error: LimitError: height×width 64×64 × 9 frames \(latents \[1,16,3,16,16\]\) does not fit: the VAE decode \(stage 'decode', after the denoising loop\) needs [\d.]+ MiB on the GPU \(VAE weights [\d.]+ MiB, frames, caches and scratch [\d.]+ MiB\), above the --max-memory budget of 12\.0 MiB; at most height×width \d+×\d+ fits at 9 frames; at most (1 frame fits|5 frames fit) at height×width 64×64; (--dtype f16 halves the VAE's bytes; )?or give --max-memory \d+ or more$/);
    expect(errors[0]).not.toMatch(/loading the pipeline|dtype '/);
    expect(r.errLines.some((l) => l.startsWith('encoding the prompt'))).toBe(false); // no stage started
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
