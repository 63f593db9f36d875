// Mutation tests (round 3) for generate --pipeline's checks before loading (src/cli/generate-pipeline.ts): the
// --steps check builds the scheduler --scheduler names, not the folder's (a pipeline of 40 training timesteps:
// UniPC runs at most 13 steps, FlowMatchEuler 40); a seeded DiT run takes --height and --width both or neither;
// an inputs file's Wan latents of F frames make (F − 1) × 4 + 1 output frames, the --frames they allow; vaeConfigOf
// leaves a config.json it cannot parse to loadVae (undefined, not a throw). The folders hold configs and no
// weights: a run the checks pass reaches the loader's ModelFolderError. No GPU needed.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { checkPipelineSteps, vaeConfigOf } from '../../src/cli/generate-pipeline.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { tesseraCli } from '../helpers/cli.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-early-mutants3-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A folder of `files` (paths under `from`) copied, no weights; `edit` rewrites a JSON file's contents. */
function configs(name: string, from: string, files: string[], edit: Record<string, (c: Record<string, unknown>) => Record<string, unknown>> = {}): string {
  const dir = join(tmp, name);
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    const e = edit[f];
    if (e) writeFileSync(join(dir, f), JSON.stringify(e(JSON.parse(readFileSync(join(from, f), 'utf8')) as Record<string, unknown>)));
    else copyFileSync(join(from, f), join(dir, f));
  }
  return dir;
}
// tessera-shapes' WanPipeline (UniPC, VAE factors 4 and 4) with a scheduler of 40 training timesteps
const shapes = join(ROOT, 'models', 'tessera-shapes');
const wan = configs('wan', shapes, ['model_index.json', 'transformer/config.json', 'vae/config.json', 'text_encoder/config.json', 'scheduler/scheduler_config.json'], { 'scheduler/scheduler_config.json': (c) => ({ ...c, num_train_timesteps: 40 }) });
symlinkSync(join(shapes, 'tokenizer'), join(wan, 'tokenizer'));
const dit = configs('dit', join(FIXTURES, 'dit_pipeline', 'pipeline'), ['model_index.json', 'transformer/config.json', 'vae/config.json', 'scheduler/scheduler_config.json']);

describe('checkPipelineSteps: the scheduler --scheduler names', () => {
  it('20 steps: the folder\'s UniPC refuses them, flow-match-euler and dpm++ do not', () => {
    expect(() => checkPipelineSteps(wan, 20)).toThrow(UsageError);
    expect(() => checkPipelineSteps(wan, 20, { scheduler: 'flow-match-euler' })).not.toThrow();
    expect(() => checkPipelineSteps(wan, 15, { scheduler: 'dpm++' })).not.toThrow();
    expect(() => checkPipelineSteps(wan, 12)).not.toThrow();
  });
});

describe('vaeConfigOf', () => {
  it('a config.json that is JSON but not a VAE config: undefined (loadVae names it)', () => {
    const dir = join(tmp, 'badvae');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ _class_name: 'AutoencoderKLWan', z_dim: 0 }));
    expect(vaeConfigOf(dir)).toBeUndefined();
    expect(vaeConfigOf(join(tmp, 'missing'))).toBeUndefined();
  });
});

/** The loader's refusal of a folder without weights: every check before it passed. */
async function reachesLoader(args: string[]): Promise<void> {
  const r = await tesseraCli(args);
  expect(r.stderr).toMatch(/^tessera: error: ModelFolderError: /);
  expect(r.code).toBe(1);
}
async function usage(args: string[], flags: RegExp): Promise<void> {
  const r = await tesseraCli(args);
  expect(r.stderr).toMatch(/^tessera: error: UsageError: /);
  expect(r.stderr).toMatch(flags);
  expect(r.code).toBe(2);
}

describe('generate --pipeline, before loading', () => {
  const out = ['--out', join(tmp, 'o.safetensors')];
  it('seeded DiT: --height without --width is refused; neither passes', async () => {
    const run = ['generate', '--pipeline', dit, '--seed', '0', '--class-label', '1', '--steps', '2', ...out];
    await usage([...run, '--height', '16'], /--height and --width/);
    await reachesLoader(run);
  }, 120_000);

  it("Wan latents of 3 frames allow --frames 9 ((3 − 1) × 4 + 1), not 12", async () => {
    const latents = join(tmp, 'latents.safetensors');
    writeFileSync(latents, writeSafetensors([{ name: 'latents', dtype: 'F32', shape: [1, 16, 3, 8, 8], data: new Float32Array(16 * 3 * 64) }]));
    const run = ['generate', '--pipeline', wan, '--prompt', 'a red circle', '--steps', '4', '--inputs', latents, ...out];
    await reachesLoader([...run, '--frames', '9']);
    await usage([...run, '--frames', '12'], /^tessera: error: UsageError: --frames 12: .* make frames 9 /);
  }, 120_000);
});
