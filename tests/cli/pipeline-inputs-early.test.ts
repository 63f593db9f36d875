// generate --pipeline --inputs FILE checks the file's latents against transformer/config.json (the family's rank,
// in_channels, multiples of the patch) from the file's header before the pipeline loads, in the lines generate's own
// rank check and the pipeline's checks (checkLatentsForTransformer) gave after loading. The folder
// holds configs and no weights: each refusal must come first, where the old check left the loader's ModelFolderError.
// No GPU needed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { tesseraCli } from '../helpers/cli.js';
import { shapesConfigsOnly } from '../helpers/config-folder.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-inputs-early-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// tessera-shapes' configs (WanPipeline, guidance 5 by default; WanTransformer3DModel: in_channels 16, text_dim 64, patch 1×2×2), no weights
const pipe = shapesConfigsOnly(tmp);

function latents(name: string, shape: number[]): string {
  const file = join(tmp, `${name}.safetensors`);
  writeFileSync(file, writeSafetensors([{ name: 'latents', dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
  return file;
}

const generate = (file: string) => tesseraCli(['generate', '--pipeline', pipe, '--prompt', 'a red circle', '--steps', '4', '--inputs', file, '--out', join(tmp, 'o.safetensors')]);

describe("generate --pipeline --inputs: the file's latents against transformer/config.json, before the pipeline loads", () => {
  it.each([
    ['rank', [1, 16, 8, 8], ' must be [B, C, F, H, W] (5 dims) for a wan model, found [1,16,8,8]'],
    ['channels', [1, 4, 3, 8, 8], ': expected 16 channels (transformer config in_channels), found 4 in [1,4,3,8,8]'],
    ['patch', [1, 16, 3, 7, 8], " [1,16,3,7,8]: frames×height×width 3×7×8 must be multiples of the transformer's patch 1×2×2"],
  ])('%s: one line naming the file and the tensor', async (name, shape, rest) => {
    const file = latents(name, shape);
    const r = await generate(file);
    expect(r.stderr).toBe(`tessera: error: InputError: ${file}: tensor "latents"${rest}\n`);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(1);
  }, 60_000);

  it('latents the config takes pass: the loader then names the missing weights', async () => {
    const r = await generate(latents('ok', [1, 16, 3, 8, 8]));
    expect(r.stderr).toMatch(/^tessera: error: ModelFolderError: .*transformer\/diffusion_pytorch_model\.safetensors: neither/);
    expect(r.code).toBe(1);
  }, 60_000);
});
