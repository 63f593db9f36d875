// diffusers' __call__ defaults that Pipeline.generate applies when an option is left out, pinned against
// diffusers' signatures (mirror 58eb52c, src/diffusers/pipelines/…): DiTPipeline guidance_scale 4.0,
// LattePipeline 7.5, WanPipeline 5.0, each num_inference_steps 50; WanPipeline max_sequence_length 512.
// Read from the values the code uses (PIPELINES, and what a call without the option does), and the CLI's help
// shows the same constants.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadPipeline, PIPELINES, type Pipeline } from '../../src/pipeline/pipeline.js';
import { DEFAULT_MAX_SEQUENCE_LENGTH } from '../../src/text/prompt-encoder.js';
import { generateCommand } from '../../src/cli/cmd-generate.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

describe("the pipelines' call defaults are diffusers'", () => {
  it('PIPELINES: guidance_scale and num_inference_steps of each class', () => {
    const got = Object.fromEntries(Object.entries(PIPELINES).map(([c, p]) => [c, { guidance_scale: p.guidance_scale, num_inference_steps: p.num_inference_steps }]));
    expect(got).toEqual({
      WanPipeline: { guidance_scale: 5.0, num_inference_steps: 50 }, // pipeline_wan.py
      LattePipeline: { guidance_scale: 7.5, num_inference_steps: 50 }, // pipeline_latte.py
      DiTPipeline: { guidance_scale: 4.0, num_inference_steps: 50 }, // pipeline_dit.py
    });
    expect(DEFAULT_MAX_SEQUENCE_LENGTH).toBe(512); // WanPipeline's max_sequence_length
  });

  it("generate --help states them from the same constants", () => {
    const f = generateCommand.spec.flags;
    expect(f['steps']!.help).toContain('default 50 with --pipeline, as diffusers;');
    expect(f['guidance']!.help).toContain("the pipeline class's default with --pipeline, as diffusers: Wan 5, Latte 7.5, DiT 4)");
  });
});

describe.skipIf(!hasGpu)('Pipeline.generate without the option uses the default (the embedded WanPipeline)', () => {
  let pipe: Pipeline;
  beforeAll(async () => {
    pipe = await loadPipeline(join(ROOT, 'models', 'tessera-shapes'), { gpu: gpu! });
  }, 120_000);
  afterAll(() => pipe?.dispose());
  const call = { prompt: 'a red circle moving left', seed: 3, height: 32, width: 32, num_frames: 9, output_type: 'latent' } as const;

  it('num_inference_steps: 50 steps (the first step aborts the run)', async () => {
    const seen: [number, number][] = [];
    const ctl = new AbortController();
    const err = await pipe.generate({ ...call, signal: ctl.signal, onStep: (i, n) => (seen.push([i, n]), ctl.abort()) }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(seen).toEqual([[1, 50]]);
  }, 120_000);

  it("guidance_scale: WanPipeline's 5.0 (bit-identical to 5.0 given, not to 4.0)", async () => {
    const run = async (g?: number) => (await pipe.generate({ ...call, num_inference_steps: 1, ...(g === undefined ? {} : { guidance_scale: g }) })).latents.data;
    const dflt = await run();
    expect(Buffer.from((await run(5.0)).buffer).equals(Buffer.from(dflt.buffer))).toBe(true);
    expect(Buffer.from((await run(4.0)).buffer).equals(Buffer.from(dflt.buffer))).toBe(false);
  }, 120_000);
});
