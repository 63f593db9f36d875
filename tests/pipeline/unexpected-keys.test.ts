// unexpectedKeys (a fresh user's list, session 16): tensors of a checkpoint the model has no place for were always a
// WeightError, where diffusers' from_pretrained warns about its unexpected_keys and goes on. Strict stays the
// default; `unexpectedKeys: 'warn'` on loadModel, loadVae, loadTextEncoder and loadPipeline loads without them and
// reports one line per component through onWarning (how many, the first five names). Missing tensors stay an error.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import '../../src/node-env.js';
import { InputError, loadModel } from '../../src/model/model.js';
import { WeightError } from '../../src/model/weights.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import { fileSource } from '../../src/io/node-source.js';
import { readSafetensorsHeader, readTensorF32, writeSafetensors, type WriteTensor } from '../../src/io/safetensors.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-unexpected-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Rewrites `file` (F32) with `extra` tensors of 2 values added, and without the tensors of `drop`. */
async function rewrite(file: string, extra: string[], drop: string[] = []): Promise<void> {
  const src = await fileSource(file);
  const tensors: WriteTensor[] = [];
  try {
    const h = await readSafetensorsHeader(src);
    for (const [name, info] of h.tensors) if (!drop.includes(name)) tensors.push({ name, dtype: 'F32', shape: info.shape, data: await readTensorF32(src, info) });
  } finally {
    await src.close?.();
  }
  for (const name of extra) tensors.push({ name, dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) });
  writeFileSync(file, writeSafetensors(tensors));
}

const EXTRA = Array.from({ length: 7 }, (_, i) => `extra_head.${i}.weight`);

/** tessera-shapes with unused tensors in the transformer (7), the VAE's decoder (1) and the text encoder (2). */
async function withExtras(): Promise<string> {
  const dir = join(tmp, 'extras');
  cpSync(DIR, dir, { recursive: true });
  await rewrite(join(dir, 'transformer', 'diffusion_pytorch_model.safetensors'), EXTRA);
  await rewrite(join(dir, 'vae', 'diffusion_pytorch_model.safetensors'), ['decoder.extra_conv.weight']);
  await rewrite(join(dir, 'text_encoder', 'model.safetensors'), ['lm_head.weight', 'encoder.extra.weight']);
  return dir;
}

describe('unexpectedKeys option (before anything is read)', () => {
  it('anything but error/warn is an InputError naming it', async () => {
    await expect(loadModel('/nonexistent', { unexpectedKeys: 'ignore' as never })).rejects.toThrow(new InputError(`unexpectedKeys: 'error' or 'warn', got "ignore"`, { option: 'unexpectedKeys' }));
    await expect(loadPipeline('/nonexistent', { unexpectedKeys: true as never })).rejects.toThrow(new InputError(`unexpectedKeys: 'error' or 'warn', got true`, { option: 'unexpectedKeys' }));
    await expect(loadModel('/nonexistent', { onWarning: 'log' as never })).rejects.toThrow(new InputError('onWarning: a function, got "log"', { option: 'onWarning' }));
  });
});

describe.skipIf(!hasGpu)('unexpectedKeys', () => {
  it("strict by default; 'warn' loads and reports one line per component; missing tensors stay an error", async () => {
    const dir = await withExtras();
    const tr = join(dir, 'transformer');
    const strict = (await loadModel(tr, { gpu: gpu! }).catch((e: unknown) => e)) as Error;
    expect(strict).toBeInstanceOf(WeightError);
    expect(strict.message).toMatch(/unexpected keys: extra_head\.0\.weight/);
    await expect(loadPipeline(dir, { gpu: gpu! })).rejects.toThrow(/unexpected keys: extra_head\.0\.weight/);

    const lines: string[] = [];
    const model = await loadModel(tr, { gpu: gpu!, unexpectedKeys: 'warn', onWarning: (l) => void lines.push(l) });
    model.dispose();
    expect(lines).toEqual([`warning: ${tr}: 7 tensors of the checkpoint not used by the model, ignored (unexpectedKeys: 'warn'): extra_head.0.weight, extra_head.1.weight, extra_head.2.weight, extra_head.3.weight, extra_head.4.weight, … (7 in all)`]);

    // without onWarning: console.warn
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      (await loadModel(tr, { gpu: gpu!, unexpectedKeys: 'warn' })).dispose();
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }

    const pipeLines: string[] = [];
    const pipe = await loadPipeline(dir, { gpu: gpu!, unexpectedKeys: 'warn', onWarning: async (l) => void pipeLines.push(l) });
    try {
      expect(pipeLines).toEqual([
        expect.stringMatching(/transformer: 7 tensors of the checkpoint not used by the model, ignored \(unexpectedKeys: 'warn'\): extra_head\.0\.weight/),
        `warning: ${dir}/vae: 1 tensor of the checkpoint not used by the model, ignored (unexpectedKeys: 'warn'): decoder.extra_conv.weight`,
        `warning: ${dir}/text_encoder: 2 tensors of the checkpoint not used by the model, ignored (unexpectedKeys: 'warn'): lm_head.weight, encoder.extra.weight`,
      ]);
      const out = await pipe.generate({ prompt: 'a cat', seed: 0, height: 32, width: 32, num_frames: 1, num_inference_steps: 1, output_type: 'latent' });
      expect(out.latents.data.every(Number.isFinite)).toBe(true);
    } finally {
      pipe.dispose();
    }

    // a missing tensor is refused whatever unexpectedKeys says
    const bad = join(tmp, 'missing');
    cpSync(join(DIR, 'transformer'), bad, { recursive: true });
    await rewrite(join(bad, 'diffusion_pytorch_model.safetensors'), ['extra_head.0.weight'], ['proj_out.bias']);
    await expect(loadModel(bad, { gpu: gpu!, unexpectedKeys: 'warn' })).rejects.toThrow(new WeightError(`${bad}: the weights do not match config.json: missing keys: proj_out.bias`));
  }, 120_000);
});
