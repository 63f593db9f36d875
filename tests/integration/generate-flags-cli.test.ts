// `tessera generate`'s flags in its three modes (--model DIR, --pipeline DIR, neither: the embedded
// tessera-shapes pipeline): a flag the mode or the folder's model does not take, or a value out of
// range, is one UsageError line naming the flag, exit 2, before any weight is read (no GPU work:
// these run without one). --batch makes a batch of clips where it applies.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInputs } from '../../src/io/inputs.js';
import { embeddedPipelineDir } from '../../src/cli/embedded.js';
import { hasGpu } from '../helpers/gpu.js';
import { cli, FIXTURES, tempDir } from '../hardening/helpers.js';
import { tesseraInProcess } from '../helpers/cli.js';
import { shapesConfigsOnly } from '../helpers/config-folder.js';

const DIT = join(FIXTURES, 'dit_small', 'model');
const DIT_PIPE = join(FIXTURES, 'dit_pipeline', 'pipeline');
const WAN_SAMPLER = join(FIXTURES, 'wan_sampler_small');
const ditRun = (out: string) => ['generate', '--model', DIT, '--scheduler', 'ddim', '--seed', '0', '--height', '8', '--width', '8', '--steps', '1', '--out', out];
const BATCH_RANGE = '--batch: clips made together, an integer from 1 to 64 (one GPU pass per step holds them all; for more, run again with another --seed)';

describe('generate --negative-prompt with --guidance ≤ 1', () => {
  it.each([['1'], ['0.5']])("--guidance %s: accepted with one note in the library's words (it was a UsageError, exit 2; diffusers ignores the negative prompt unguided), then the run goes on to the loader", async (g) => {
    const pipe = shapesConfigsOnly(tempDir());
    const r = await cli(['generate', '--pipeline', pipe, '--prompt', 'a red circle', '--negative-prompt', '', '--guidance', g, '--seed', '0', '--height', '32', '--width', '32', '--frames', '1', '--out', join(tempDir(), 'o.safetensors')]);
    expect(r.errLines.filter((l) => l.includes('negative'))).toEqual([`note: --negative-prompt unused: --guidance ${g} ≤ 1 disables classifier-free guidance (as diffusers' do_classifier_free_guidance, guidance_scale > 1); give --guidance > 1 to use it`]);
    // the configs-only folder has no weights: the loader's refusal, not a flag's
    expect(r.errLines.at(-1)).toMatch(/ModelFolderError/);
  }, 60_000);
});

describe('generate: flags refused with one UsageError line, exit 2, nothing written', () => {
  const out = join(tempDir(), 'o.safetensors');
  it.each([
    // --batch: range, and where it applies
    [[...ditRun(out), '--class-label', '1', '--batch', '-1'], `${BATCH_RANGE}, got -1`],
    [[...ditRun(out), '--class-label', '1', '--batch', '0'], `${BATCH_RANGE}, got 0`],
    [['generate', '--out', out, '--steps', '1', '--batch', '0'], `${BATCH_RANGE}, got 0`],
    [['generate', '--out', out, '--steps', '1', '--batch', '100000'], `${BATCH_RANGE}, got 100000`],
    [['generate', '--model', join(WAN_SAMPLER, 'model'), '--inputs', join(WAN_SAMPLER, 'inputs.safetensors'), '--out', out, '--steps', '1', '--batch', '2'], "--batch applies to seeded runs without --inputs (clips of one --prompt, or images of one --class-label); with --inputs the batch is the file's (the first dimension of its tensors)"],
    // flags of another mode or another family
    [['generate', '--out', out, '--steps', '1', '--class-label', '2'], '--class-label applies to DiT (class-conditional) models; the embedded tessera-shapes pipeline is a Wan pipeline, conditioned on text (--prompt)'],
    [['generate', '--pipeline', 'models/tessera-shapes', '--seed', '0', '--out', out, '--class-label', '2'], '--class-label applies to DiT (class-conditional) models; --pipeline models/tessera-shapes is a Wan pipeline, conditioned on text (--prompt)'],
    [['generate', '--out', out, '--steps', '1', '--scheduler', 'euler'], '--scheduler must be one of FlowMatchEulerDiscreteScheduler, DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler (or flow-match-euler, ddim, unipc, dpm-solver, dpmpp), got "euler" (did you mean flow-match-euler?)'],
    [[...ditRun(out), '--class-label', '1', '--frames', '2'], `--frames applies to video models; --model ${DIT} is a DiT model (images)`],
    [['generate', '--pipeline', DIT_PIPE, '--seed', '0', '--out', out, '--prompt', 'a cat'], `--prompt: --pipeline ${DIT_PIPE} is a DiT pipeline, class-conditional: give --class-label N (or class_labels in --inputs)`],
    [[...ditRun(out), '--prompt', 'a cat'], '--prompt needs --pipeline DIR (its tokenizer/ and text_encoder/ encode the prompt); with --model give encoder_hidden_states in --inputs'],
    [['generate', '--out', out, '--max-sequence-length', '0'], '--max-sequence-length must be between 1 and 65536, got 0'],
    // with --inputs the embedded pipeline has no default prompt: the text flags still need one
    [['generate', '--out', out, '--inputs', join(WAN_SAMPLER, 'inputs.safetensors'), '--negative-prompt', 'blue'], '--negative-prompt needs --prompt'],
    [['generate', '--out', out, '--inputs', join(WAN_SAMPLER, 'inputs.safetensors'), '--max-sequence-length', '16'], '--max-sequence-length needs --prompt'],
    // values
    [['generate', '--model', DIT, '--scheduler', 'ddim', '--seed', '0', '--height', '-8', '--width', '8', '--steps', '1', '--out', out, '--class-label', '1'], '--height: must be a positive integer, got -8'],
    [[...ditRun(out), '--class-label', '-3'], '--class-label: must be a class id from 0 to 10 (10 = the null class used for guidance), got -3'],
    [[...ditRun(out), '--class-label', '11'], '--class-label: must be a class id from 0 to 10 (10 = the null class used for guidance), got 11'],
    [['generate', '--pipeline', DIT_PIPE, '--seed', '0', '--out', out, '--class-label', '-3'], '--class-label: must be a class id from 0 to 1000 (1000 = the null class used for guidance), got -3'],
    // --shift where the scheduler has none: named, a UsageError as in demo
    [[...ditRun(out), '--class-label', '1', '--shift', '3'], "--shift sets the shift of flow-matching schedules (FlowMatchEulerDiscreteScheduler's shift, UniPC / DPM-Solver's flow_shift with use_flow_sigmas), not DDIMScheduler (--scheduler ddim), which has no shift: leave out --shift, or give --scheduler flow-match-euler"],
    // a size that disagrees with the inputs file's latents (it was ignored)
    [['generate', '--model', join(WAN_SAMPLER, 'model'), '--inputs', join(WAN_SAMPLER, 'inputs.safetensors'), '--out', out, '--steps', '1', '--scheduler', 'flow-match-euler', '--height', '99'], `--height 99: the "latents" in ${join(WAN_SAMPLER, 'inputs.safetensors')} [1,4,2,6,8] have height 6; with --model, --frames/--height/--width size seeded noise (latent units): drop --height (or remove "latents" from the file and give --seed for new noise of that size)`],
    // --fps without a clip to time: it was ignored
    [['generate', '--prompt', 'a red circle moving up', '--fps', '4', '--steps', '2', '--out', out], '--fps 4: the frame rate of --video and --preview, and neither is given: add --video FILE.mp4 or --preview FILE.gif, or drop --fps'],
    [['generate', '--prompt', 'a red circle moving up', '--fps', '4', '--steps', '2', '--out', out, '--frames-dir', join(tempDir(), 'frames')], '--fps 4: the frame rate of --video and --preview, and neither is given (--frames-dir writes PNG frames, which have no rate): add --video FILE.mp4 or --preview FILE.gif, or drop --fps'],
    [['generate', '--model', join(WAN_SAMPLER, 'model'), '--inputs', join(WAN_SAMPLER, 'inputs.safetensors'), '--out', out, '--steps', '1', '--fps', '12'], '--fps 12: the frame rate of --video and --preview, and neither is given: add --video FILE.mp4 or --preview FILE.gif, or drop --fps'],
    // the folder: checked before the scheduler config is looked for
    [['generate', '--model', '/nonexistent', '--out', out, '--steps', '1', '--seed', '0'], '--model /nonexistent: no such folder'],
    [['generate', '--model', 'models/tessera-shapes', '--out', out, '--steps', '1', '--seed', '0'], '--model models/tessera-shapes: a pipeline folder (it has model_index.json); give --pipeline DIR or --model models/tessera-shapes/transformer'],
  ])('%j', async (argv, msg) => {
    // through the CLI's entry in this process (main(), whose return the launcher exits with): each refusal
    // comes before any GPU work, where a spawn only added two Node starts and a module load; one is also
    // spawned below, for the exit status and stderr a shell sees
    const r = await tesseraInProcess(argv);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([`tessera: error: UsageError: ${msg}`]);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('spawned: exit 2, the one line on stderr, nothing written', async () => {
    const r = await cli([...ditRun(out), '--class-label', '11']);
    expect(r.stderr.trim()).toBe('tessera: error: UsageError: --class-label: must be a class id from 0 to 10 (10 = the null class used for guidance), got 11');
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});

// --pipeline: the sizes the latents decode to need the VAE's factors, checked in loadPipeline's preflight
// (after the adapter is acquired, before any weight is read)
describe.skipIf(!hasGpu)('generate --pipeline: --height/--width/--frames against the inputs file\'s latents', () => {
  const G = join(FIXTURES, 'wan_pipeline_embeds');
  const inputs = join(G, 'euler_b1.inputs.safetensors'); // latents [1,4,2,4,4]: 5 frames of 32×32
  const run = (out: string, ...more: string[]) => ['generate', '--pipeline', join(G, 'pipeline'), '--inputs', inputs, '--steps', '2', '--guidance', '4', '--out', out, ...more];
  const tail = 'with --pipeline, --frames/--height/--width size seeded noise (output pixels and frames)';
  const out = join(tempDir(), 'o.safetensors');
  it.each([
    [['--height', '64', '--width', '64', '--frames', '13'], `--frames 13: the "latents" in ${inputs} [1,4,2,4,4] make frames 5 (2 latent frames: (2 − 1) × VAE temporal factor 4 + 1); ${tail}: drop --frames or give 5 (or remove "latents" from the file and give --seed for new noise of that size)`],
    [['--height', '64'], `--height 64: the "latents" in ${inputs} [1,4,2,4,4] make height 32 (4 latent rows × VAE factor 8); ${tail}: drop --height or give 32 (or remove "latents" from the file and give --seed for new noise of that size)`],
    [['--width', '16', '--height', '32'], `--width 16: the "latents" in ${inputs} [1,4,2,4,4] make width 32 (4 latent columns × VAE factor 8); ${tail}: drop --width or give 32 (or remove "latents" from the file and give --seed for new noise of that size)`],
  ])('%j is refused, exit 2', async (more, msg) => {
    const r = await cli(run(out, ...more));
    expect(r.errLines).toEqual([`tessera: error: UsageError: ${msg}`]);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('the sizes the latents make are accepted', async () => {
    const o = join(tempDir(), 'ok.safetensors');
    const r = await cli(run(o, '--height', '32', '--width', '32', '--frames', '5'), {}, 240_000);
    expect(r.code, r.stderr).toBe(0);
    expect((await readInputs(o)).get('video')!.shape).toEqual([1, 5, 32, 32, 3]);
  }, 300_000);
});

describe.skipIf(!hasGpu)('generate --batch makes a batch', () => {
  it('--model DiT --class-label 1 --batch 3: latents [3,4,8,8]', async () => {
    const out = join(tempDir(), 'o.safetensors');
    const r = await cli([...ditRun(out), '--class-label', '1', '--batch', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect((await readInputs(out)).get('latents')!.shape).toEqual([3, 4, 8, 8]);
  });

  // --negative-prompt and --max-sequence-length shape the encoding of the default prompt (they were refused as needing --prompt)
  it('the embedded pipeline --batch 2 (--negative-prompt, --max-sequence-length on its default prompt): two clips, latents [2,16,1,8,8] and video [2,1,32,32,3]', async () => {
    const out = join(tempDir(), 'o.safetensors');
    // --frames 1: two one-frame clips (the batch is what is checked; one latent frame is a third of the VAE work)
    const r = await cli(['generate', '--out', out, '--steps', '1', '--frames', '1', '--batch', '2', '--negative-prompt', 'blue', '--max-sequence-length', '16'], {}, 240_000);
    expect(r.code, r.stderr).toBe(0);
    // without --quiet the pipeline's stage lines are there (cli-ux.test.ts checks that -q drops them)
    expect(r.errLines.filter((l) => /^(encoding the prompt|decoding with) /.test(l))).toHaveLength(2);
    const t = await readInputs(out);
    expect(t.get('latents')!.shape).toEqual([2, 16, 1, 8, 8]);
    expect(t.get('video')!.shape).toEqual([2, 1, 32, 32, 3]);
    // the two clips start from different noise
    const v = t.get('video')!.f32!;
    const half = v.length / 2;
    expect(v.subarray(0, half).some((x, i) => x !== v[half + i])).toBe(true);
  }, 300_000);
});
