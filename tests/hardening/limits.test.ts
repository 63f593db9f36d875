// Issue 5, "Limits before work": the memory a run needs (weights, activations, workspace) is
// estimated from the config and shapes alone, compared with the adapter's limits and an optional
// budget, and refused with the numbers and a suggestion before anything is allocated.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readInputs } from '../../src/io/inputs.js';
import { parseConfig } from '../../src/model/config.js';
import { checkRunFits, checkWeightsFit, estimateMemory, estimateWeights, LimitError, parseBytes } from '../../src/model/memory.js';
import { InputError, loadModel, type ForwardInputs } from '../../src/model/model.js';
import { loadRandomModel, PRESETS } from '../../src/model/presets.js';
import { generate } from '../../src/sampler/generate.js';
import { randn } from '../../src/random.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { cli, filesIn, FIXTURES, inputsWith, tempDir } from './helpers.js';
import { thrown } from '../helpers/errors.js';

const GiB = 2 ** 30;
// lavapipe's limits (any adapter's defaults are at most these): used where no GPU is needed
const LIMITS = { maxBufferSize: 4 * GiB - 1, maxStorageBufferBindingSize: 128 * 2 ** 20 };
const wan13b = parseConfig(PRESETS['wan-1.3b']!.config);
// 200 frames at 1088×1920 → Wan's VAE: (200−1)/4+1 = 50 latent frames of 136×240
const HUGE = [1, 16, 50, 136, 240];
const TEXT = [1, 512, 4096];

const refusal = (f: () => unknown): LimitError => thrown(f, LimitError);

describe('estimateMemory / checkRunFits from config + shape alone', () => {
  it('Wan-1.3B, 200 frames at 1080p: refused with the numbers and concrete suggestions', () => {
    const est = estimateMemory(wan13b, HUGE, TEXT, 'f32');
    // 1.4 B parameters in f32; the FFN runs over token chunks, so the largest binding is the
    // residual stream, 408,000 tokens × 1536
    expect(est.weights / 4).toBeGreaterThan(1.3e9);
    expect(est.weights / 4).toBeLessThan(1.5e9);
    expect(est.largestName).toBe('x [1,408000,1536]');
    expect(est.largestTensor).toBe(408000 * 1536 * 4);
    const e = refusal(() => checkRunFits(wan13b, HUGE, TEXT, 'f32', LIMITS, { f16: true }));
    expect(e.message).toMatch(/^this run \(latents \[1,16,50,136,240\], text \[1,512,4096\], f32\) needs \d+\.\d\d GiB on the GPU \(weights 5\.\d\d GiB \+ activations \d+\.\d\d GiB \+ workspace/);
    expect(e.message).toContain('its largest tensor, x [1,408000,1536], is 2.33 GiB, above the adapter\'s maxStorageBufferBindingSize of 128.0 MiB');
    // 2 latent frames of 8,160 tokens fit (x: 2 × 8160 × 1536 × 4 B = 95.6 MiB; 3 would be 143 MiB)
    expect(e.message).toMatch(/: use fewer frames \(2 latent frames fit at this resolution\) or a smaller resolution$/); // f16 alone would not fit: not suggested
    expect(() => checkRunFits(wan13b, [1, 16, 2, 136, 240], TEXT, 'f32', LIMITS)).not.toThrow();
    expect(() => checkRunFits(wan13b, [1, 16, 3, 136, 240], TEXT, 'f32', LIMITS)).toThrow(LimitError);
    // too large for even one frame: it says how many tokens would fit, as whole rows of patches at
    // this width (x [1, N, 1536] f32 ≤ 128 MiB: N ≤ 21845, so 21 rows of 1000; every axis within
    // rope_max_seq_len 1024, as the probes keep the request's own axes)
    const e3 = refusal(() => checkRunFits(wan13b, [1, 16, 1, 2 * 30, 2 * 1000], TEXT, 'f32', LIMITS));
    const k = Number(/about (\d+) of these 30000 tokens per item fit/.exec(e3.message)![1]);
    expect(k).toBe(21000);
    expect(() => checkRunFits(wan13b, [1, 16, 1, 2 * 21, 2 * 1000], TEXT, 'f32', LIMITS)).not.toThrow();
    expect(() => checkRunFits(wan13b, [1, 16, 1, 2 * 22, 2 * 1000], TEXT, 'f32', LIMITS)).toThrow(LimitError);
    // at a low resolution the frame count that fits is named, and it is exact
    const e2 = refusal(() => checkRunFits(wan13b, [1, 16, 100, 30, 52], TEXT, 'f32', LIMITS));
    const n = Number(/use fewer frames \((\d+) latent frames? fits? at this resolution\)/.exec(e2.message)![1]);
    expect(n).toBeGreaterThan(0);
    expect(() => checkRunFits(wan13b, [1, 16, n, 30, 52], TEXT, 'f32', LIMITS)).not.toThrow();
    expect(() => checkRunFits(wan13b, [1, 16, n + 1, 30, 52], TEXT, 'f32', LIMITS)).toThrow(LimitError);
    // f16 halves every tensor but 200 frames at 1080p still do not fit; the preset's own size does
    expect(() => checkRunFits(wan13b, HUGE, TEXT, 'f16', LIMITS)).toThrow(LimitError);
    const { frames, height, width } = PRESETS['wan-1.3b']!.latent;
    expect(() => checkRunFits(wan13b, [2, 16, frames, height, width], [2, 32, 4096], 'f32', LIMITS)).not.toThrow();
  });

  it('a budget (--max-memory) refuses the total, naming it; weights alone are checked before upload', () => {
    const small = [1, 16, 2, 16, 16];
    const est = estimateMemory(wan13b, small, [1, 32, 4096], 'f16');
    expect(() => checkRunFits(wan13b, small, [1, 32, 4096], 'f16', LIMITS, { maxMemory: est.total })).not.toThrow();
    const e = refusal(() => checkRunFits(wan13b, small, [1, 32, 4096], 'f16', LIMITS, { maxMemory: est.total - 1 }));
    expect(e.message).toMatch(/above the budget of 2\.\d\d GiB \(maxMemory\)/);
    const w = refusal(() => checkWeightsFit(wan13b, 'f32', LIMITS, { maxMemory: 2 * GiB }));
    expect(w.message).toBe(`the model's weights need ${(estimateWeights(wan13b, 'f32').bytes / GiB).toFixed(2)} GiB in f32 (30 layers, dim 1536), above the budget of 2.00 GiB (maxMemory): a larger maxMemory budget or a smaller model`);
    // a single weight above the per-buffer limit
    const wide = parseConfig({ ...PRESETS['wan-1.3b']!.config, ffn_dim: 30000 }); // ffn weight 30000×1536×4 = 176 MiB
    expect(refusal(() => checkWeightsFit(wide, 'f32', LIMITS)).message).toMatch(/largest weight blocks\.0\.ffn\.net\.0\.proj\.weight \[30000,1536\] is 175\.8 MiB in f32, above the adapter's per-buffer limit of 128\.0 MiB: try dtype: 'f16'$/);
  });

  it('parseBytes reads sizes with units and rejects junk', () => {
    expect(parseBytes('2GiB')).toBe(2 * GiB);
    expect(parseBytes('512 MB')).toBe(512 * 2 ** 20);
    expect(parseBytes('1.5g')).toBe(1.5 * GiB);
    expect(parseBytes('4096')).toBe(4096);
    for (const bad of ['', 'lots', '-1GiB', '0', '0.5', '2 parsecs']) expect(() => parseBytes(bad)).toThrow(InputError);
  });
});

async function fixtureInputs(name: string): Promise<ForwardInputs> {
  const m = await readInputs(join(FIXTURES, name, 'inputs.safetensors'));
  const fi: ForwardInputs = { hidden_states: { data: m.get('hidden_states')!.f32!, shape: m.get('hidden_states')!.shape }, timestep: m.get('timestep')!.f32! };
  if (m.has('class_labels')) fi.class_labels = Array.from(m.get('class_labels')!.i64!, Number);
  else fi.encoder_hidden_states = { data: m.get('encoder_hidden_states')!.f32!, shape: m.get('encoder_hidden_states')!.shape };
  return fi;
}

describe.skipIf(!hasGpu)('the estimate is honest, and the model refuses before allocating', () => {
  it('estimate vs the bytes the allocator really holds (weights exact, a run within 12 %, never under)', async () => {
    for (const name of ['wan_small', 'dit_small', 'latte_small']) {
      const model = await loadModel(join(FIXTURES, name, 'model'), { gpu: gpu! });
      try {
        const fi = await fixtureInputs(name);
        const hs = fi.hidden_states.shape;
        // the fixture's shape, and one 3× larger in tokens (where activations dominate)
        const big = hs.length === 5 ? [hs[0]!, hs[1]!, hs[2]!, hs[3]! * 3, hs[4]!] : [hs[0]!, hs[1]!, hs[2]! * 3, hs[3]!];
        for (const shape of [hs, big]) {
          const w0 = model.gpuBytes;
          const inputs = { ...fi, hidden_states: { data: randn(shape.reduce((a, b) => a * b, 1), 1), shape } };
          model.planFor(inputs);
          const actual = model.gpuBytes - w0;
          const est = estimateMemory(model.config, shape, fi.encoder_hidden_states?.shape, 'f32');
          expect(est.weights, name).toBe(model.weights.bytes);
          expect(est.activations + est.workspace, `${name} [${shape}]`).toBeGreaterThanOrEqual(actual);
          expect(est.activations + est.workspace, `${name} [${shape}]`).toBeLessThanOrEqual(actual * 1.12);
        }
      } finally {
        model.destroy();
      }
    }
  });

  it('forward: a latent whose activations exceed a binding is refused before allocating (tiny Wan, 400 frames at 1080p)', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    try {
      const fi = await fixtureInputs('wan_small');
      // the FFN runs over token chunks, so the residual stream x [1, 816000, 48] is what exceeds a binding
      const shape = [1, 4, 100, 136, 240];
      const before = model.gpuBytes;
      const err = await model.forward({ ...fi, hidden_states: { data: new Float32Array(4 * 100 * 136 * 240), shape } }).catch((e) => e);
      expect(err).toBeInstanceOf(LimitError);
      expect(err.message).toMatch(/its largest tensor, x \[1,816000,48\], is 149\.4 MiB, above the adapter's maxStorageBufferBindingSize/);
      expect(err.message).toMatch(/use fewer frames \(\d+ latent frames? fits? at this resolution\)/);
      expect(model.gpuBytes).toBe(before);
    } finally {
      model.destroy();
    }
  });

  it('a budget: loadModel refuses weights over it; forward and generate refuse a run over it before the first step', async () => {
    const dir = join(FIXTURES, 'wan_small', 'model');
    await expect(loadModel(dir, { gpu: gpu!, maxMemory: 64 * 1024 })).rejects.toThrow(/the model's weights need 315\.6 KiB in f32 .* above the budget of 64\.0 KiB/);
    const fi = await fixtureInputs('wan_small');
    const est = estimateMemory(parseConfig((await import('../../tests/fixtures/wan_small/model/config.json', { with: { type: 'json' } })).default), fi.hidden_states.shape, fi.encoder_hidden_states!.shape, 'f32');
    const model = await loadModel(dir, { gpu: gpu!, maxMemory: est.total });
    try {
      await expect(model.forward(fi)).resolves.toBeDefined(); // batch 1 fits exactly
      // CFG doubles the batch: over the budget, refused before step 1
      let steps = 0;
      const err = await generate(model, {
        scheduler: 'flow-match-euler',
        num_inference_steps: 2,
        guidance_scale: 5,
        latents: fi.hidden_states,
        encoder_hidden_states: fi.encoder_hidden_states,
        negative_encoder_hidden_states: fi.encoder_hidden_states,
        onStep: () => steps++,
      }).catch((e) => e);
      expect(err).toBeInstanceOf(LimitError);
      expect(err.message).toMatch(/^this run \(latents \[2,4,2,6,8\], text \[2,6,24\], f32\) needs .* above the budget of/);
      expect(steps).toBe(0);
    } finally {
      model.destroy();
    }
  });

  it('loadRandomModel(wan-1.3b) with a 2 GiB budget is refused before a single weight is made or uploaded', async () => {
    // without the check this would generate and upload 5.6 GB of random weights (minutes)
    const err = await loadRandomModel(PRESETS['wan-1.3b']!.config, { gpu: gpu!, maxMemory: 2 * GiB }).catch((e) => e);
    expect(err).toBeInstanceOf(LimitError);
    expect(err.message).toContain('above the budget of 2.00 GiB');
  });
});

describe.skipIf(!hasGpu)('CLI: refused before work, exit 1, one line, no output', () => {
  it('generate: 200 frames at 1080p on a Wan model', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.safetensors');
    const c = join(FIXTURES, 'wan_sampler_small');
    const text = await inputsWith('wan_sampler_small', (m) => m.delete('latents')); // --seed makes the noise
    const r = await cli(['generate', '--model', join(c, 'model'), '--inputs', text, '--seed', '0', '--frames', '50', '--height', '136', '--width', '240', '--scheduler', 'flow-match-euler', '--steps', '2', '--guidance', '4', '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/^tessera: error: LimitError: this run \(latents \[2,4,50,136,240\].* needs .*maxStorageBufferBindingSize of 128\.0 MiB: use fewer frames \(42 latent frames fit at this resolution\), a smaller resolution, a smaller batch or --dtype f16/);
    expect(existsSync(out)).toBe(false);
    expect(filesIn(dir)).toEqual([]);
  });

  it('forward: --max-memory and TESSERA_MAX_GPU_MEMORY budgets; a bad size is a usage error', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.safetensors');
    const c = join(FIXTURES, 'wan_small');
    const args = ['forward', '--model', join(c, 'model'), '--inputs', join(c, 'inputs.safetensors'), '--out', out];
    const a = await cli([...args, '--max-memory', '330KiB']); // weights 315.6 KiB fit, the run does not
    expect(a.code, a.stderr).toBe(1);
    expect(a.errLines).toEqual([expect.stringMatching(/^tessera: error: LimitError: this run \(latents \[1,4,2,6,8\], text \[1,6,24\], f32\) needs 3\d\d\.\d KiB .* above the budget of 330\.0 KiB/)]);
    const b = await cli(args, { TESSERA_MAX_GPU_MEMORY: '100KiB' });
    expect(b.code).toBe(1);
    expect(b.errLines).toEqual([expect.stringMatching(/LimitError: the model's weights need 315\.6 KiB in f32 .* above the budget of 100\.0 KiB/)]);
    const u = await cli([...args, '--max-memory', 'plenty']);
    expect(u.code).toBe(2);
    expect(u.errLines).toEqual(['tessera: error: UsageError: --max-memory: not a memory size: "plenty" (expected e.g. 512MiB, 2GiB or a number of bytes)']);
    expect(filesIn(dir)).toEqual([]);
    const ok = await cli([...args, '--max-memory', '1GiB']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(filesIn(dir)).toEqual(['out.safetensors']);
  });
});
