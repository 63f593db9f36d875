// generate --pipeline / the embedded pipeline with --scheduler: the class is built from the folder's
// scheduler_config.json as diffusers' X.from_config (the shared values kept, one warning naming the keys X
// does not define), and samples as a folder whose model_index.json names X does (DiffusionPipeline.from_pretrained
// builds model_index's class from the same config). Unknown names and values X cannot take are refused before
// any weight is read.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInputs } from '../../src/io/inputs.js';
import { cli, ROOT, tempDir } from '../hardening/helpers.js';

const SHAPES = join(ROOT, 'models', 'tessera-shapes'); // UniPCMultistepScheduler, flow_prediction
const CONFIG = join(SHAPES, 'scheduler', 'scheduler_config.json');
const run = ['--prompt', 'a red circle moving right', '--seed', '0', '--height', '32', '--width', '32', '--frames', '1', '--steps', '2'];
const lines = (s: string) => s.split('\n').filter((l) => l && !/compiling|tuning|denoising|encoding|decoding/.test(l));

describe('generate --pipeline --scheduler', () => {
  it("samples with that class built from the folder's config, as a folder whose model_index.json names it", async () => {
    const dir = tempDir();
    const copy = join(dir, 'shapes');
    cpSync(SHAPES, copy, { recursive: true });
    const index = JSON.parse(readFileSync(join(copy, 'model_index.json'), 'utf8'));
    index.scheduler = ['diffusers', 'DPMSolverMultistepScheduler'];
    writeFileSync(join(copy, 'model_index.json'), JSON.stringify(index));
    const [a, b] = [join(dir, 'a.safetensors'), join(dir, 'b.safetensors')];
    const [ra, rb] = await Promise.all([
      cli(['generate', '--pipeline', SHAPES, '--scheduler', 'dpmpp', ...run, '--out', a], {}, 180_000),
      cli(['generate', '--pipeline', copy, ...run, '--out', b], {}, 180_000),
    ]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const ignored = "disable_corrector, predict_x0, shift_terminal, sigma_max, sigma_min, solver_p are not DPMSolverMultistepScheduler config keys: ignored";
    const la = lines(ra.stderr);
    expect(la[0]).toBe(`warning: ${CONFIG}: ${ignored} (as diffusers' from_config does)`);
    expect(la.at(-1)).toMatch(new RegExp(`^wrote ${a}: latents \\[1,16,1,8,8\\], video .* \\(WanPipeline, DPMSolverMultistepScheduler, decoded by AutoencoderKLWan;`));
    expect(lines(rb.stderr)[0]).toBe(`warning: ${join(copy, 'scheduler', 'scheduler_config.json')}: _class_name "UniPCMultistepScheduler" is not model_index.json's DPMSolverMultistepScheduler: using DPMSolverMultistepScheduler with the values it defines (as diffusers' from_pretrained does); ${ignored}`);
    const [ta, tb] = await Promise.all([readInputs(a), readInputs(b)]);
    expect(ta.get('latents')!.f32).toEqual(tb.get('latents')!.f32);
    expect(ta.get('latents')!.f32!.length).toBe(16 * 8 * 8);
  }, 240_000);

  it('an unknown name, or a value the class cannot take, is refused before any weight is read', async () => {
    const out = join(tempDir(), 'o.safetensors');
    const [bad, ddim] = await Promise.all([
      cli(['generate', '--pipeline', SHAPES, '--scheduler', 'euler-a', ...run, '--out', out]),
      cli(['generate', '--scheduler', 'ddim', '--out', out]),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('tessera: error: UsageError: --scheduler must be one of FlowMatchEulerDiscreteScheduler, DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler (or flow-match-euler, ddim, unipc, dpm-solver, dpmpp), got "euler-a"');
    // DDIM has no flow_prediction: the flag's problem (other classes take the config), naming the file's value and those classes
    expect(ddim.code).toBe(2);
    expect(ddim.stderr.trim().split('\n').at(-1)).toBe(`tessera: error: UsageError: --scheduler ddim: ${CONFIG}: prediction_type "flow_prediction" is not one of DDIMScheduler's values (epsilon, v_prediction, sample); this config works with --scheduler flow-match-euler, unipc, dpm-solver`);
  }, 120_000);
});
