// The sampler goldens and the field cases through the CLI, as outside checks run them
// (`tessera generate` with no --scheduler: the class from scheduler_config.json), and the CLI's
// error lines for variants and scheduler configs.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, cpSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { FIXTURES, ROOT, loadCase, runCase } from '../helpers/golden.js';
import { readInputs } from '../../src/io/inputs.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { relError } from '../helpers/compare.js';
import { tesseraInProcess } from '../helpers/cli.js';
import { GOLDEN_F32, goldenF32Tol } from '../tolerances.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'tessera-sampler-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const r = await run(process.execPath, [join(ROOT, 'bin', 'tessera.mjs'), ...args], { cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' } });
    return { code: 0, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stderr: string };
    return { code: x.code, stderr: x.stderr };
  }
}

/**
 * As cli, through the CLI's entry in this process (main(), whose return the launcher exits with): for the refusals,
 * which come before any kernel runs, where a spawn only added two Node starts and a module load. One refusal is also
 * spawned (the first --seed case), for the exit status and stderr a shell sees.
 */
async function refused(args: string[]): Promise<{ code: number; stderr: string }> {
  const r = await tesseraInProcess(args);
  return { code: r.code ?? -1, stderr: r.stderr };
}

async function rel(out: string, expected: string, key: string): Promise<number> {
  return relError((await readInputs(out)).get(key)!.f32!, (await readInputs(expected)).get(key)!.f32!);
}

describe.skipIf(!hasGpu)('sampler goldens and field cases through the CLI', () => {
  for (const name of ['wan_sampler_unipc_small', 'dit_sampler_dpmpp_small']) {
    it(`${name} (no --scheduler: the config's _class_name)`, async () => {
      const r = await runCase(name);
      console.log(`${name}: relative error ${r.rel.toExponential(2)}`);
      expect(r.rel).toBeLessThanOrEqual(goldenF32Tol(loadCase(name).tolerance.max));
      expect(r.stderr).toContain(`steps of ${name.startsWith('wan') ? 'UniPCMultistepScheduler' : 'DPMSolverMultistepScheduler'}`);
    });
  }

  const F = join(FIXTURES, 'field');
  const field: [string, string[], string][] = [
    ['metadata-null', ['forward', '--model', join(F, 'metadata-null/model'), '--inputs', join(F, 'metadata-null/inputs.safetensors')], 'sample'],
    ['variant-fp16', ['forward', '--model', join(F, 'variant-fp16/model'), '--inputs', join(F, 'variant-fp16/inputs.safetensors'), '--variant', 'fp16'], 'sample'],
    ['scheduler-foreign-keys', ['generate', '--model', join(F, 'scheduler-foreign-keys/pipe/transformer'), '--inputs', join(F, 'scheduler-foreign-keys/inputs.safetensors'), '--scheduler', 'ddim', '--steps', '5', '--guidance', '3'], 'latents'],
    ['scheduler-other-class', ['generate', '--model', join(F, 'scheduler-other-class/pipe/transformer'), '--inputs', join(F, 'scheduler-other-class/inputs.safetensors'), '--scheduler', 'ddim', '--steps', '10', '--guidance', '2'], 'latents'],
  ];
  for (const [name, args, key] of field) {
    it(`field case ${name} (README command)`, async () => {
      const out = join(tmp, `${name}.safetensors`);
      const r = await cli([...args, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      const e = await rel(out, join(F, name, 'expected.safetensors'), key);
      console.log(`${name}: relative error ${e.toExponential(2)}`);
      // every case runs in f32 storage (the default, variant-fp16's F16 weights widened on upload,
      // as diffusers without torch_dtype): held to GOLDEN_F32, not the cases' 2e-3
      expect(e).toBeLessThanOrEqual(GOLDEN_F32);
      if (name.startsWith('scheduler-')) expect(r.stderr.split('\n').filter((l) => l.startsWith('warning: ')).length).toBe(1);
    });
  }

  it('error lines: a variant folder without --variant, an unsupported scheduler class, a bad config value', async () => {
    const out = join(tmp, 'never.safetensors');
    const v = await refused(['forward', '--model', join(F, 'variant-fp16/model'), '--inputs', join(F, 'variant-fp16/inputs.safetensors'), '--out', out]);
    expect(v.code).toBe(1);
    expect(v.stderr.trim().split('\n').pop()).toMatch(/^tessera: error: ModelFolderError: .*variant-fp16\/model\/diffusion_pytorch_model\.safetensors: .*weight variant fp16 \(diffusion_pytorch_model\.fp16\.safetensors\): pass --variant fp16/);
    // a pipeline folder whose scheduler class tessera does not run
    const pipe = join(tmp, 'euler');
    mkdirSync(join(pipe, 'scheduler'), { recursive: true });
    cpSync(join(FIXTURES, 'wan_sampler_unipc_small', 'model'), join(pipe, 'transformer'), { recursive: true });
    writeFileSync(join(pipe, 'scheduler', 'scheduler_config.json'), JSON.stringify({ _class_name: 'EulerDiscreteScheduler' }));
    const inputs = join(FIXTURES, 'wan_sampler_unipc_small', 'inputs.safetensors');
    const s = await refused(['generate', '--model', join(pipe, 'transformer'), '--inputs', inputs, '--out', out, '--steps', '2', '--guidance', '5']);
    expect(s.code).toBe(1);
    expect(s.stderr.trim().split('\n').pop()).toBe(`tessera: error: SchedulerConfigError: ${join(pipe, 'scheduler', 'scheduler_config.json')}: scheduler class EulerDiscreteScheduler is not supported; supported: FlowMatchEulerDiscreteScheduler, DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler (short names flow-match-euler, ddim, unipc, dpm-solver, dpmpp) (or choose one with --scheduler)`);
    writeFileSync(join(pipe, 'scheduler', 'scheduler_config.json'), JSON.stringify({ _class_name: 'UniPCMultistepScheduler', solver_order: 5 }));
    const b = await refused(['generate', '--model', join(pipe, 'transformer'), '--inputs', inputs, '--out', out, '--steps', '2', '--guidance', '5', '--scheduler', 'UniPCMultistepScheduler']);
    expect(b.stderr.trim().split('\n').pop()).toMatch(/^tessera: error: SchedulerConfigError: .*scheduler_config\.json: solver_order must be an integer in \[1, 3\], got 5$/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('--seed outside the generator\'s 32 bits is a usage error, before any GPU work', () => {
  it('-1, 2^32 and 99999999999999 are refused naming --seed (exit 2), as is 1.5; no output written', async () => {
    const out = join(tmp, 'seed.safetensors');
    const range = "an integer in 0..4294967295 (the noise generator's seed is 32 bits)";
    for (const [seed, line] of [
      ['-1', `--seed: ${range}, got -1`],
      ['4294967296', `--seed: ${range}, got 4294967296`],
      ['99999999999999', `--seed: ${range}, got 99999999999999`],
      ['1.5', '--seed must be an integer, got "1.5"'],
    ]) {
      // the embedded pipeline (no folder flags) and a --model run
      for (const args of [['generate', '--seed', seed!, '--out', out], ['generate', '--model', join(FIXTURES, 'wan_sampler_unipc_small', 'model'), '--steps', '2', '--seed', seed!, '--frames', '1', '--height', '4', '--width', '4', '--out', out]]) {
        const r = await (seed === '-1' && args.length === 5 ? cli : refused)(args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr.trim().split('\n').pop()).toBe(`tessera: error: UsageError: ${line}`);
      }
    }
    expect(existsSync(out)).toBe(false);
  });
});

describe.skipIf(!hasGpu)('seeded sizes with --pipeline are named as the flags, before any weight is read', () => {
  it('--frames 8, --height 30, --width 36: UsageError (exit 2) naming the flag and the nearest valid sizes', async () => {
    const out = join(tmp, 'sizes.safetensors');
    for (const [flags, line] of [
      [['--frames', '8'], '--frames 8: must be 4k + 1 (VAE temporal factor 4), such as 9 or 5'],
      [['--height', '30'], '--height 30: must be a multiple of 8 (VAE factor 4 × patch 2), such as 32 or 24'],
      [['--width', '36'], '--width 36: must be a multiple of 8 (VAE factor 4 × patch 2), such as 40 or 32'],
      [['--frames', '0'], '--frames: must be a positive integer, got 0'],
    ] as const) {
      const r = await refused(['generate', '--seed', '1', ...flags, '--out', out]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n').pop()).toBe(`tessera: error: UsageError: ${line}`);
      expect(r.stderr).not.toMatch(/denoising|encoding the prompt/);
    }
    expect(existsSync(out)).toBe(false);
  });
});

describe.skipIf(!hasGpu)('--inputs whose text batch differs from the latents batch', () => {
  it('is one line naming both tensors, with or without --guidance (not the [cond; uncond] batch tessera builds); no output written', async () => {
    // wan_sampler_small's inputs with the latents repeated to batch 2; the text stays batch 1
    const given = await readInputs(join(FIXTURES, 'wan_sampler_small', 'inputs.safetensors'));
    const lat = given.get('latents')!;
    const inputs = join(tmp, 'batch-mismatch.safetensors');
    writeFileSync(inputs, writeSafetensors([
      { name: 'latents', dtype: 'F32', shape: [2, ...lat.shape.slice(1)], data: Float32Array.from([...lat.f32!, ...lat.f32!]) },
      ...(['encoder_hidden_states', 'negative_encoder_hidden_states'] as const).map((name) => ({ name, dtype: 'F32' as const, shape: given.get(name)!.shape, data: given.get(name)!.f32! })),
    ]));
    const out = join(tmp, 'batch-mismatch-out.safetensors');
    for (const guidance of ['4', '1']) {
      const r = await refused(['generate', '--model', join(FIXTURES, 'wan_sampler_small', 'model'), '--inputs', inputs, '--out', out, '--scheduler', 'flow-match-euler', '--steps', '2', '--guidance', guidance]);
      expect(r.code, r.stderr).toBe(1);
      // refused from the file's header before the weights load (checkSamplingShapes, generate()'s own check)
      expect(r.stderr.trim().split('\n').pop()).toBe(`tessera: error: InputError: ${inputs}: tensor "encoder_hidden_states": expected [2, L, 24] (batch of "latents" [2,4,2,6,8], config text_dim), found [1,6,24]`);
    }
    expect(existsSync(out)).toBe(false);
  });
});
