// generate --pipeline, generate --model and demo check the flags that the folder's JSON files and numbers alone decide
// before any model is read or the GPU acquired, in the words the later checks used: a --steps the pipeline's scheduler
// cannot run (the pipeline refused it when its call started, after loading), --frames/--height/--width against the VAE's
// factors (vae/config.json, pipelineVaeScale) and Wan's rope_max_seq_len (they came in the loader's preflight, after the
// adapter), a seeded run without the sizes it needs (generate refused it after the weights loaded). The folders here hold
// configs and no weights: each refusal must come first, where the old checks left the loader's ModelFolderError (exit 1).
// No GPU needed.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { tesseraCli, tesseraInProcess } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-early-checks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const shapes = join(ROOT, 'models', 'tessera-shapes');

// tessera-shapes' configs (VAE scale_factor_spatial 4, not the default 8), a scheduler of 40 training timesteps, no weights
const pipe = join(tmp, 'pipe');
for (const c of ['transformer', 'vae', 'text_encoder', 'scheduler']) mkdirSync(join(pipe, c), { recursive: true });
copyFileSync(join(shapes, 'model_index.json'), join(pipe, 'model_index.json'));
for (const f of ['transformer/config.json', 'vae/config.json', 'text_encoder/config.json']) copyFileSync(join(shapes, f), join(pipe, f));
symlinkSync(join(shapes, 'tokenizer'), join(pipe, 'tokenizer'));
const scheduler = JSON.parse(readFileSync(join(shapes, 'scheduler', 'scheduler_config.json'), 'utf8')) as Record<string, unknown>;
writeFileSync(join(pipe, 'scheduler', 'scheduler_config.json'), JSON.stringify({ ...scheduler, num_train_timesteps: 40 }));
// the transformer folder alone, for --model
const model = join(tmp, 'model');
mkdirSync(model);
copyFileSync(join(shapes, 'transformer', 'config.json'), join(model, 'config.json'));
const text = join(tmp, 'text.safetensors');
writeFileSync(text, writeSafetensors([{ name: 'encoder_hidden_states', dtype: 'F32', shape: [1, 4, 64], data: new Float32Array(256) }]));
const latents = join(tmp, 'latents.safetensors');
writeFileSync(latents, writeSafetensors([{ name: 'latents', dtype: 'F32', shape: [1, 16, 3, 8, 8], data: new Float32Array(16 * 3 * 64) }]));

const generate = ['generate', '--pipeline', pipe, '--prompt', 'a red circle', '--out', join(tmp, 'o.safetensors')];
const demo = ['demo', '--pipeline', pipe, '--out', join(tmp, 'demo')];
const seeded = ['--seed', '0', '--frames', '5', '--height', '16', '--width', '16'];
const WHY = "the 3-D RoPE has 1024 positions per axis (diffusers' WanRotaryPosEmbed)";
const ropeLine = (frames: number, lat: number) =>
  `--frames: height×width 32×32 × ${frames} frames (latents [1,16,${lat},8,8]) gives a grid of ${lat}×4×4 (latent frames×height×width after patch_size 1×2×2), beyond transformer/config.json's rope_max_seq_len 1024 in frames: ${WHY}; use at most 4093 frames (latent frames (frames − 1)/4 + 1 ≤ 1024), or raise rope_max_seq_len in transformer/config.json`;

/**
 * One UsageError line on stderr, nothing on stdout (not demo's header), exit 2: through the CLI's entry in this process
 * (tesseraInProcess: main(), whose return the launcher exits with), as each refusal comes before any GPU work, where a
 * spawn only added two Node starts and a module load; `spawn` (one case below) runs it as a child process.
 */
async function refused(args: string[], line: string, spawn = false): Promise<void> {
  const r = await (spawn ? tesseraCli(args) : tesseraInProcess(args));
  expect(r.stderr).toBe(`tessera: error: UsageError: ${line}\n`);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(2);
}

describe('generate --pipeline --steps, before the pipeline loads', () => {
  it.each([
    ['--steps 45', ['--steps', '45'], 45],
    ["no --steps: WanPipeline's 50", [], 50],
    ['--scheduler flow-match-euler (built from the same config)', ['--scheduler', 'flow-match-euler', '--steps', '41'], 41],
  ])('%s: the scheduler of 40 training timesteps cannot run it', async (_, args, n) => {
    await refused([...generate, ...seeded, ...args], `--steps must be an integer in [1, 40] (num_train_timesteps), got ${n}`, n === 50);
  }, 60_000);
});

describe('sizes against vae/config.json and rope_max_seq_len, before the GPU is acquired', () => {
  it.each([
    ['generate --pipeline', generate, ['--steps', '4', '--seed', '0']],
    ['demo', demo, ['--steps', '4']],
  ])('%s: --height, --frames and a size past rope_max_seq_len in the flags\' words', async (_, cmd, rest) => {
    await refused([...cmd, ...rest, '--frames', '5', '--height', '20', '--width', '16'], '--height 20: must be a multiple of 8 (VAE factor 4 × patch 2), such as 24 or 16');
    await refused([...cmd, ...rest, '--frames', '6', '--height', '16', '--width', '16'], '--frames 6: must be 4k + 1 (VAE temporal factor 4), such as 5 or 9');
    await refused([...cmd, ...rest, '--frames', '8193', '--height', '32', '--width', '32'], ropeLine(8193, 2049));
  }, 120_000);

  it('a size the VAE factor 4 allows (8 would not) passes them: the loader then names the missing weights', async () => {
    const r = await tesseraInProcess([...generate, '--steps', '4', '--seed', '0', '--frames', '5', '--height', '24', '--width', '16']);
    expect(r.stderr).toMatch(/^tessera: error: ModelFolderError: .*transformer\/diffusion_pytorch_model\.safetensors: neither/);
    expect(r.code).toBe(1);
  }, 60_000);

  it("generate --pipeline --height given with an inputs file's latents: the size they make", async () => {
    await refused(
      [...generate, '--steps', '4', '--inputs', latents, '--height', '64'],
      `--height 64: the "latents" in ${latents} [1,16,3,8,8] make height 32 (8 latent rows × VAE factor 4); with --pipeline, --frames/--height/--width size seeded noise (output pixels and frames): drop --height or give 32 (or remove "latents" from the file and give --seed for new noise of that size)`,
    );
  }, 60_000);
});

describe('a seeded run without the sizes it needs, before the model is read', () => {
  it('generate --pipeline: --height/--width, then --frames', async () => {
    await refused([...generate, '--steps', '4', '--seed', '0'], '--seed with --pipeline needs --height and --width in pixels (and --frames for video pipelines; DiT defaults to its sample_size)');
    await refused([...generate, '--steps', '4', '--seed', '0', '--height', '16', '--width', '16'], '--seed with WanPipeline needs --frames (output frames, 4k + 1)');
  }, 60_000);

  it('generate --model: --height/--width, and seeded --frames past rope_max_seq_len', async () => {
    // flow-match-euler: the class whose defaults fit this Wan folder with no scheduler config (unipc's are refused)
    const run = ['generate', '--model', model, '--scheduler', 'flow-match-euler', '--steps', '2', '--inputs', text, '--guidance', '1', '--seed', '0', '--out', join(tmp, 'm.safetensors')];
    await refused(run, '--seed needs --height and --width (latent size)');
    await refused(
      [...run, '--frames', '1030', '--height', '4', '--width', '4'],
      `--frames: hidden_states: [1,16,1030,4,4] gives a grid of 1030×2×2 (frames×height×width after patch_size 1×2×2), beyond config.json's rope_max_seq_len 1024 in frames: ${WHY}; use latents of at most 1024×2048×2048 frames×height×width, or raise rope_max_seq_len in config.json`,
    );
  }, 60_000);
});
