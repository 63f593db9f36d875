// --variant names weight files X.NAME.safetensors, so it must be a plain name: a path ("../x", "a/b")
// or an empty name is the flag's problem, one UsageError line naming --variant (exit 2), given before
// any file is read (here every path is missing, and the variant is still what is refused). The library
// keeps its own check (ModelFolderError from openModelFolder, InputError from loadModel).
// bench vae takes --variant as bench model does: a VAE folder saved with variant="fp16" runs with it.
import { cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';

const WHY = 'a weight variant is a plain name of letters, digits, _ and - (e.g. fp16 or bf16; it picks the weights files X.NAME.safetensors: diffusion_pytorch_model.NAME.safetensors, a text encoder\'s model.NAME.safetensors)';
const NONE = '/nonexistent/tessera-variant';
// folders and files that exist (one that does not is refused first, naming its flag: tests/hardening/cli.test.ts)
const MODEL = 'tests/fixtures/wan_small/model';
const INPUTS = 'tests/fixtures/wan_small/inputs.safetensors';
const PIPELINE = 'models/tessera-shapes';
const VAE = 'models/tessera-shapes/vae';

describe('--variant that is not a plain name: UsageError, exit 2, before any file is read', () => {
  it.each([
    ['forward', '../x', ['forward', '--model', MODEL, '--inputs', INPUTS, '--out', `${NONE}-o.safetensors`]],
    ['generate --model', '', ['generate', '--model', MODEL, '--inputs', INPUTS, '--out', `${NONE}-o.safetensors`, '--steps', '2']],
    ['generate --pipeline', 'fp16/../x', ['generate', '--pipeline', PIPELINE, '--seed', '0', '--out', `${NONE}-o.safetensors`]],
    ['encode', 'fp16/x', ['encode', '--pipeline', PIPELINE, '--prompt', 'a cat', '--out', `${NONE}-o.safetensors`]],
    ['demo --pipeline', '.', ['demo', '--pipeline', PIPELINE, '--out', `${NONE}-d`]],
    ['decode', 'a b', ['decode', '--vae', VAE, '--inputs', INPUTS, '--out', `${NONE}-o.safetensors`]],
    ['bench model', 'x.y', ['bench', 'model', '--model', MODEL, '--height', '4', '--width', '4']],
    ['bench vae', '../fp16', ['bench', 'vae', '--vae', VAE, '--height', '2', '--width', '2']],
  ])('%s --variant %j', async (_, variant, args) => {
    const r = await tesseraCli([...args, '--variant', variant]);
    expect(r.stderr.trim()).toBe(`tessera: error: UsageError: --variant ${JSON.stringify(variant)}: ${WHY}`);
    expect(r.code).toBe(2);
  });
});

describe.skipIf(!hasGpu)('bench vae --variant: a VAE folder saved with a weight variant', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tessera-variant-cli-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('without --variant the hint names it (exit 1); with --variant fp16 it decodes and times (exit 0); with --vae-preset it is refused (exit 2)', async () => {
    // tests/fixtures/sd_vae_small's AutoencoderKL (8/16 channels) as save_pretrained(variant="fp16") names its weights
    const dir = join(tmp, 'vae');
    cpSync(join(FIXTURES, 'sd_vae_small', 'vae'), dir, { recursive: true });
    renameSync(join(dir, 'diffusion_pytorch_model.safetensors'), join(dir, 'diffusion_pytorch_model.fp16.safetensors'));
    const size = ['--height', '2', '--width', '2', '--repeats', '1'];
    const no = await tesseraCli(['bench', 'vae', '--vae', dir, ...size]);
    expect(no.stderr.trim().split('\n').pop()).toBe(
      `tessera: error: ModelFolderError: ${dir}/diffusion_pytorch_model.safetensors: neither diffusion_pytorch_model.safetensors nor diffusion_pytorch_model.safetensors.index.json found; the folder has the weight variant fp16 (diffusion_pytorch_model.fp16.safetensors): pass --variant fp16`,
    );
    expect(no.code).toBe(1);
    const yes = await tesseraCli(['bench', 'vae', '--vae', dir, '--variant', 'fp16', ...size, '--json']);
    expect(yes.code, yes.stderr).toBe(0);
    const r = JSON.parse(yes.stdout.trim().split('\n').pop()!) as { vae: string; latents: number[]; sample: number[]; check: { finite: boolean; deterministic: boolean } };
    expect([r.vae, r.latents, r.sample]).toEqual(['AutoencoderKL', [1, 4, 2, 2], [1, 3, 4, 4]]);
    expect(r.check.finite && r.check.deterministic).toBe(true);
    const preset = await tesseraCli(['bench', 'vae', '--vae-preset', 'sd', '--variant', 'fp16']);
    expect(preset.stderr.trim()).toBe("tessera: error: UsageError: --variant names a folder's weight files: it applies with --vae DIR, not --vae-preset (whose weights are made from --seed)");
    expect(preset.code).toBe(2);
  }, 180_000);
});
