// demo takes the flags generate --pipeline takes for the same stages: --max-memory (and TESSERA_MAX_GPU_MEMORY, as
// every command with the flag): a run over the budget is refused before any GPU work (LimitError, exit 1), a bad
// size is a UsageError (exit 2), the pipeline demo and the --preset demo alike; --max-sequence-length (range-checked,
// refused with --preset; a run with it: tests/integration/demo-cli.test.ts). demo refused both. A --steps the pipeline's
// scheduler cannot run is --steps' UsageError, in generate's words (demo passed on the SchedulerConfigError, exit 1),
// before any model is read or the GPU acquired (it came after the text encoder's stage: the header, the device line and
// the encoder's kernel compiles first).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';
import { shapesConfigsOnly } from '../helpers/config-folder.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-demo-budget-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const lastLine = (s: string) => s.trim().split('\n').pop();

describe('demo --max-memory', () => {
  it('a size that is not one: UsageError (exit 2)', async () => {
    const r = await tesseraCli(['demo', '--max-memory', 'lots', '--out', join(tmp, 'a')]);
    expect(lastLine(r.stderr)).toBe('tessera: error: UsageError: --max-memory: not a memory size: "lots" (expected e.g. 512MiB, 2GiB or a number of bytes)');
    expect(r.code).toBe(2);
  }, 60_000);

  it.skipIf(!hasGpu)('over the budget, the flag or the variable: LimitError (exit 1) before the weights are read; --preset too', async () => {
    const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
    const runs = [
      await tesseraCli(['demo', '--max-memory', '1KiB', '--steps', '1', '--out', join(tmp, 'b')], { env }),
      await tesseraCli(['demo', '--steps', '1', '--out', join(tmp, 'c')], { env: { ...env, TESSERA_MAX_GPU_MEMORY: '1KiB' } }),
    ];
    for (const r of runs) {
      expect(lastLine(r.stderr)).toBe("tessera: error: LimitError: the model's weights need 4.2 MiB in f32 (4 layers, dim 128), above the budget of 1.0 KiB (--max-memory / TESSERA_MAX_GPU_MEMORY): a larger --max-memory budget or a smaller model");
      expect(r.stdout).not.toMatch(/^device: /m); // printed once the pipeline is loaded
      expect(r.code).toBe(1);
    }
    expect(runs[0]!.stdout).toContain('text encoder → 1 denoising step → VAE decode'); // the header's count in words
    const preset = await tesseraCli(['demo', '--preset', 'wan-tiny', '--max-memory', '1KiB', '--steps', '1', '--out', join(tmp, 'd')], { env });
    expect(lastLine(preset.stderr)).toMatch(/^tessera: error: LimitError: the model's weights need [\d.]+ MiB in f32 \(2 layers, dim 96\), above the budget of 1\.0 KiB/);
    expect(preset.code).toBe(1);
  }, 120_000);
});

describe('demo --max-sequence-length', () => {
  it.each([
    [['--max-sequence-length', '0'], '--max-sequence-length must be between 1 and 65536, got 0'],
    [['--preset', 'dit-tiny', '--max-sequence-length', '16'], '--max-sequence-length runs the trained pipeline; --preset runs a random-weight architecture without a text encoder: give one or the other'],
  ])('%j: UsageError (exit 2) before any GPU work', async (args, line) => {
    const r = await tesseraCli(['demo', ...args, '--out', join(tmp, 'e')]);
    expect(lastLine(r.stderr)).toBe(`tessera: error: UsageError: ${line}`);
    expect(r.code).toBe(2);
  }, 60_000);
});

describe('demo --steps the scheduler cannot run', () => {
  it("the same UsageError line as generate --pipeline (exit 2), and demo's before any GPU work: no GPU needed", async () => {
    // the embedded pipeline with a scheduler of 100 training timesteps: at most 100 steps
    const pipe = join(tmp, 'pipe');
    mkdirSync(join(pipe, 'scheduler'), { recursive: true });
    for (const c of ['model_index.json', 'text_encoder', 'tokenizer', 'transformer', 'vae']) symlinkSync(join(ROOT, 'models', 'tessera-shapes', c), join(pipe, c));
    const config = JSON.parse(readFileSync(join(ROOT, 'models', 'tessera-shapes', 'scheduler', 'scheduler_config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(pipe, 'scheduler', 'scheduler_config.json'), JSON.stringify({ ...config, num_train_timesteps: 100 }));
    const size = ['--frames', '5', '--height', '16', '--width', '16', '--steps', '150'];
    const line = 'tessera: error: UsageError: --steps must be an integer in [1, 100] (num_train_timesteps), got 150';
    const demo = await tesseraCli(['demo', '--pipeline', pipe, ...size, '--out', join(tmp, 'f')]);
    expect(demo.stderr).toBe(`${line}\n`); // nothing before it: no kernel compiles, no stage
    expect(demo.stdout).toBe(''); // not even the header
    expect(demo.code).toBe(2);
    if (!hasGpu) return;
    const generate = await tesseraCli(['generate', '--pipeline', pipe, '--prompt', 'a red circle', '--seed', '0', ...size, '--out', join(tmp, 'g.safetensors')]);
    expect(lastLine(generate.stderr)).toBe(line);
    expect(generate.code).toBe(2);
  }, 120_000);
});

describe('demo --negative-prompt with --guidance ≤ 1', () => {
  it("accepted with one note naming the flags, as diffusers ignores negative_prompt unguided (it was generate's UsageError, exit 2): the run goes on to the loader", async () => {
    const pipe = shapesConfigsOnly(mkdtempSync(join(tmp, 'neg-')));
    const r = await tesseraCli(['demo', '--pipeline', pipe, '--negative-prompt', '', '--guidance', '1', '--out', join(tmp, 'neg-out')]);
    const note = "note: --negative-prompt unused: --guidance 1 ≤ 1 disables classifier-free guidance (as diffusers' do_classifier_free_guidance, guidance_scale > 1); give --guidance > 1 to use it";
    expect(`${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('negative')), r.stderr).toEqual([note]);
    // the configs-only folder has no weights: the loader's refusal, not a flag's
    expect(lastLine(r.stderr)).toMatch(/ModelFolderError/);
  }, 60_000);
});
