// `generate --pipeline` end to end against diffusers' WanPipeline itself (float64, given prompt
// embeddings: tests/fixtures/wan_pipeline_embeds/make_case.py): denoise with the folder's
// scheduler, decode with its AutoencoderKLWan, frames as output_type="np". Library runs share one
// device (kernels compile once); one CLI run writes the MP4, GIF and PNGs, read back here.
import '../helpers/optimised-compile.js'; // first: the optimised lavapipe compile (run time dominates here)
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readInputs } from '../../src/io/inputs.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import { FIXTURES, loadCase, ROOT, runCase } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { relError as rel } from '../helpers/compare.js';
import { goldenF32Tol } from '../tolerances.js';
import { decodeGif, decodeMp4, decodePngFile, hasFfmpeg, probeMp4, spread } from '../helpers/media.js';

const CASE = join(FIXTURES, 'wan_pipeline_embeds');
const PIPE = join(CASE, 'pipeline');
const cases = JSON.parse(readFileSync(join(CASE, 'cases.json'), 'utf8'));
const TOL = goldenF32Tol(cases.tolerance.max); // f32 runs: 1e-4 (tessera lands ~1e-6; the cases allow 2e-3)
const tmp = mkdtempSync(join(tmpdir(), 'tessera-pipeline-it-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The fixture pipeline with scheduler/ replaced by UniPCMultistepScheduler as Wan2.1 ships it. */
function unipcPipeline(): string {
  const dir = join(tmp, 'pipeline-unipc');
  if (!existsSync(dir)) {
    cpSync(PIPE, dir, { recursive: true });
    cpSync(join(CASE, 'scheduler_unipc', 'scheduler_config.json'), join(dir, 'scheduler', 'scheduler_config.json'));
    const index = JSON.parse(readFileSync(join(dir, 'model_index.json'), 'utf8'));
    index.scheduler = ['diffusers', 'UniPCMultistepScheduler'];
    writeFileSync(join(dir, 'model_index.json'), JSON.stringify(index));
  }
  return dir;
}

async function tensors(name: string, kind: 'inputs' | 'expected') {
  return readInputs(join(CASE, `${name}.${kind}.safetensors`));
}

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'tessera.mjs'), ...args], { cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp', ...env }, timeout: 600_000 }, (err, _out, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr });
    });
  });
}

describe.skipIf(!hasGpu)('WanPipeline from prompt embeddings: latents and video match diffusers', () => {
  it.each(['euler_b1', 'euler_b2', 'unipc_b1'])('%s (library: loadPipeline → pipe.generate)', async (name) => {
    const c = cases.cases[name];
    const inp = await tensors(name, 'inputs');
    const exp = await tensors(name, 'expected');
    const pipe = await loadPipeline(c.scheduler === 'UniPCMultistepScheduler' ? unipcPipeline() : PIPE, { gpu: gpu! });
    expect(pipe.scheduler.className).toBe(c.scheduler);
    try {
      const steps = Number(c.args[c.args.indexOf('--steps') + 1]);
      const guidance = Number(c.args[c.args.indexOf('--guidance') + 1]);
      const { video, latents } = await pipe.generate({
        latents: { data: inp.get('latents')!.f32!, shape: inp.get('latents')!.shape },
        prompt_embeds: { data: inp.get('encoder_hidden_states')!.f32!, shape: inp.get('encoder_hidden_states')!.shape },
        negative_prompt_embeds: { data: inp.get('negative_encoder_hidden_states')!.f32!, shape: inp.get('negative_encoder_hidden_states')!.shape },
        num_inference_steps: steps,
        guidance_scale: guidance,
      });
      expect(latents.shape).toEqual(exp.get('latents')!.shape);
      expect(video!.shape).toEqual(c.video_shape);
      const rl = rel(latents.data, exp.get('latents')!.f32!);
      const rv = rel(video!.data, exp.get('video')!.f32!);
      console.log(`${name}: latents rel ${rl.toExponential(2)}, video rel ${rv.toExponential(2)} (tolerance ${TOL})`);
      expect(rl).toBeLessThan(TOL);
      expect(rv).toBeLessThan(TOL);
    } finally {
      pipe.dispose();
    }
  });

  it.skipIf(!hasFfmpeg && !process.env['CI'])('CLI: --out holds latents + video; --video MP4, --preview GIF and --frames-dir PNGs of the decoded clip', async () => {
    const name = 'euler_b1';
    const c = cases.cases[name];
    const out = join(tmp, 'cli');
    const args = c.args.map((a: string) => a.replace('{pipeline}', PIPE).replace('{case}', CASE).replace('{out}', join(tmp, 'out.safetensors')));
    const r = await cli(['generate', ...args, '--video', join(tmp, 'clip.mp4'), '--preview', join(tmp, 'clip.gif'), '--frames-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    const got = await readInputs(join(tmp, 'out.safetensors'));
    const exp = await tensors(name, 'expected');
    expect([...got.keys()].sort()).toEqual(['latents', 'video']);
    expect(rel(got.get('video')!.f32!, exp.get('video')!.f32!)).toBeLessThan(TOL);
    expect(rel(got.get('latents')!.f32!, exp.get('latents')!.f32!)).toBeLessThan(TOL);
    // what it wrote, and with which encoder
    expect(r.stderr).toMatch(/wrote .*out\.safetensors: latents \[1,4,2,4,4\], video \[1,5,32,32,3\] \(F32 in \[0,1\]\) after 3 steps .*WanPipeline, FlowMatchEulerDiscreteScheduler, decoded by AutoencoderKLWan/);
    expect(r.stderr).toMatch(/wrote .*clip\.mp4: 5 frames 32×32 at 16 fps, decoded by the VAE; H\.264 \(libx264, yuv420p, crf 18\) via ffmpeg/);
    expect(r.stderr).toMatch(/wrote .*clip\.gif: 5 frames 32×32 at 16 fps, decoded by the VAE; animated GIF via gifenc/);
    expect(r.stderr).toMatch(/wrote .*frame-000\.png … frame-004\.png: 5 frames 32×32, decoded by the VAE; PNG via fast-png/);
    // the MP4 as a player reads it: H.264, every frame, full size, not constant, close to the video tensor
    expect(probeMp4(join(tmp, 'clip.mp4'))).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width: 32, height: 32, frames: 5, fps: 16 });
    const mp4 = decodeMp4(join(tmp, 'clip.mp4'), 32, 32);
    const gif = decodeGif(join(tmp, 'clip.gif'));
    expect([gif.width, gif.height, gif.frames.length]).toEqual([32, 32, 5]);
    const video = exp.get('video')!.f32!;
    for (let f = 0; f < 5; f++) {
      expect(spread(mp4[f]!, 3)).toBeGreaterThan(40);
      expect(spread(gif.frames[f]!, 4)).toBeGreaterThan(40);
      const png = decodePngFile(join(out, `frame-00${f}.png`));
      let errMp4 = 0;
      let errPng = 0;
      for (let i = 0; i < 32 * 32; i++)
        for (let ch = 0; ch < 3; ch++) {
          const want = video[(f * 32 * 32 + i) * 3 + ch]! * 255;
          errMp4 += Math.abs(mp4[f]![i * 3 + ch]! - want);
          errPng = Math.max(errPng, Math.abs(png.data[i * 4 + ch]! - want));
        }
      expect(errPng).toBeLessThanOrEqual(0.5 + 255 * TOL); // PNG: the rounded pixels themselves
      expect(errMp4 / (32 * 32 * 3)).toBeLessThan(8); // H.264 4:2:0 at crf 18: a few levels on average
    }
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe.skipIf(!hasGpu)('DiTPipeline from class labels: images match diffusers', () => {
  it('dit_pipeline (CLI, DPMSolverMultistepScheduler, CFG 4, batch 2): images [2,16,16,3]', async () => {
    const c = loadCase('dit_pipeline');
    const r = await runCase('dit_pipeline');
    console.log(`dit_pipeline: images rel ${r.rel.toExponential(2)}`);
    expect(r.rel).toBeLessThan(goldenF32Tol(c.tolerance.max));
    expect(r.stderr).toMatch(/images \[2,16,16,3\] \(F32 in \[0,1\]\) after 3 steps .*DiTPipeline, DPMSolverMultistepScheduler, decoded by AutoencoderKL/);
  });
  it('seeded, no size: sample_size latents as DiTPipeline', async () => {
    const pipe = await loadPipeline(join(FIXTURES, 'dit_pipeline', 'pipeline'), { gpu: gpu! });
    try {
      const out = await pipe.generate({ class_labels: [3], seed: 0, num_inference_steps: 1, guidance_scale: 1 });
      expect(out.latents.shape).toEqual([1, 4, 8, 8]);
      expect(out.images!.shape).toEqual([1, 16, 16, 3]);
      expect(out.video).toBeUndefined();
    } finally {
      pipe.dispose();
    }
  });
});

describe('CLI: refusals before any GPU work', () => {
  it('--video with no ffmpeg on the PATH: one clear line, exit 1, nothing written', async () => {
    const dir = mkdtempSync(join(tmp, 'noff-'));
    const c = cases.cases['euler_b1'];
    const args = c.args.map((a: string) => a.replace('{pipeline}', PIPE).replace('{case}', CASE).replace('{out}', join(dir, 'out.safetensors')));
    const r = await cli(['generate', ...args, '--video', join(dir, 'clip.mp4')], { PATH: join(dir, 'no-bin') });
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('Warning: '));
    expect(lines).toEqual([expect.stringMatching(/^tessera: error: EncoderError: writing an MP4 \(H\.264\) needs the ffmpeg program and none is on the PATH: install it/)]);
    expect(readdirSync(dir)).toEqual([]);
  });
});
