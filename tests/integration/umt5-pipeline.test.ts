// Prompts in, end to end: WanPipeline from prompt TEXT to frames against diffusers itself
// (tests/fixtures/umt5/pipeline_prompt, make_pipeline_prompt_case.py: batch of 2 prompts, a
// negative prompt, truncation at 10 tokens), through loadPipeline → pipe.generate({ prompt }); and
// `tessera encode` / `tessera generate --prompt` through the CLI: the public golden umt5_small,
// a held-out case with a negative prompt, and bad input refused with one line.
import '../helpers/optimised-compile.js'; // first: the optimised lavapipe compile (run time dominates here)
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readInputs } from '../../src/io/inputs.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import type { Umt5TextEncoder } from '../../src/text/prompt-encoder.js';
import { relError } from '../helpers/compare.js';
import { FIXTURES, ROOT, runCase } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { GOLDEN_F32, goldenF32Tol } from '../tolerances.js';

const CASE = join(FIXTURES, 'umt5', 'pipeline_prompt');
const EMB = join(FIXTURES, 'wan_pipeline_embeds', 'pipeline');
const meta = JSON.parse(readFileSync(join(CASE, 'case.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'tessera-umt5-it-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'tessera.mjs'), ...args], { cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' }, timeout: 600_000 }, (err, _out, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr });
    });
  });
}

/** The case's pipeline folder: its text_encoder/ + tokenizer/ with wan_pipeline_embeds' transformer/vae/scheduler (hashes checked). */
function assemble(): string {
  for (const [rel, sha] of Object.entries(meta.borrowed_from_wan_pipeline_embeds as Record<string, string>)) {
    const got = createHash('sha256').update(readFileSync(join(EMB, rel))).digest('hex');
    if (got !== sha) throw new Error(`${join(EMB, rel)} changed since tests/fixtures/umt5/pipeline_prompt was made: rerun make_pipeline_prompt_case.py`);
  }
  const dir = join(tmp, 'pipeline');
  cpSync(join(CASE, 'pipeline'), dir, { recursive: true });
  for (const c of ['transformer', 'vae', 'scheduler']) symlinkSync(join(EMB, c), join(dir, c));
  const index = { ...JSON.parse(readFileSync(join(EMB, 'model_index.json'), 'utf8')), ...JSON.parse(readFileSync(join(CASE, 'pipeline', 'model_index.json'), 'utf8')) };
  writeFileSync(join(dir, 'model_index.json'), JSON.stringify(index));
  return dir;
}

describe.skipIf(!hasGpu)('WanPipeline from prompt text (UMT5 on WebGPU) matches diffusers', () => {
  it('library: loadPipeline → pipe.generate({ prompt, negative_prompt, ... }): latents and video', async () => {
    const dir = assemble();
    const pipe = await loadPipeline(dir, { gpu: gpu! });
    try {
      expect(pipe.textEncoder).toBeDefined();
      const inp = await readInputs(join(CASE, 'inputs.safetensors'));
      const exp = await readInputs(join(CASE, 'expected.safetensors'));
      const { video, latents } = await pipe.generate({
        prompt: meta.prompt,
        negative_prompt: meta.negative_prompt,
        latents: { data: inp.get('latents')!.f32!, shape: inp.get('latents')!.shape },
        num_inference_steps: meta.num_inference_steps,
        guidance_scale: meta.guidance_scale,
        max_sequence_length: meta.max_sequence_length,
      });
      expect(video!.shape).toEqual(meta.video_shape);
      const rl = relError(latents.data, exp.get('latents')!.f32!);
      const rv = relError(video!.data, exp.get('video')!.f32!);
      const tol = goldenF32Tol(meta.tolerance); // f32 run: 1e-4 (the case allows 2e-3)
      console.log(`pipeline_prompt: latents rel ${rl.toExponential(2)}, video rel ${rv.toExponential(2)} (tolerance ${tol})`);
      expect(rl).toBeLessThan(tol);
      expect(rv).toBeLessThan(tol);
      // two prompts + one negative prompt (the same for both items) were encoded; a second call encodes nothing
      const te = pipe.textEncoder as Umt5TextEncoder;
      expect(te.encodedCount).toBe(3);
      await pipe.generate({ prompt: meta.prompt, negative_prompt: meta.negative_prompt, latents: { data: inp.get('latents')!.f32!, shape: inp.get('latents')!.shape }, num_inference_steps: 1, max_sequence_length: meta.max_sequence_length, output_type: 'latent' });
      expect(te.encodedCount).toBe(3);
    } finally {
      pipe.dispose();
    }
  });

  it('CLI: tessera encode on the public golden umt5_small', async () => {
    const r = await runCase('umt5_small');
    console.log(`umt5_small via CLI: rel ${r.rel.toExponential(3)}`);
    expect(r.rel).toBeLessThan(GOLDEN_F32); // the encoder runs in f32 (the case allows 2e-3)
  });

  it('CLI: tessera encode --negative-prompt writes both tensors (held-out truncneg case)', async () => {
    const cd = join(FIXTURES, 'umt5', 'truncneg');
    const c = JSON.parse(readFileSync(join(cd, 'case.json'), 'utf8'));
    const out = join(tmp, 'truncneg.safetensors');
    const r = await cli(['encode', '--pipeline', join(cd, 'pipeline'), '--prompt', c.prompt, '--negative-prompt', c.negative_prompt, '--max-sequence-length', String(c.max_sequence_length), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const got = await readInputs(out);
    const exp = await readInputs(join(cd, 'expected.safetensors'));
    for (const k of ['prompt_embeds', 'negative_prompt_embeds']) {
      expect(got.get(k)!.shape).toEqual(exp.get(k)!.shape);
      expect(relError(got.get(k)!.f32!, exp.get(k)!.f32!)).toBeLessThan(GOLDEN_F32);
    }
  });

  it('CLI: bad input is one line naming the file or flag, exit 1/2, no output file', async () => {
    const bad = join(tmp, 'bad');
    cpSync(join(FIXTURES, 'umt5_small', 'pipeline'), bad, { recursive: true });
    rmSync(join(bad, 'tokenizer', 'tokenizer.json'));
    const out = join(tmp, 'never.safetensors');
    let r = await cli(['encode', '--pipeline', bad, '--prompt', 'x', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tessera: error: TokenizerError: .*bad\/tokenizer\/tokenizer\.json: missing/m);
    copyFileSync(join(FIXTURES, 'umt5_small', 'pipeline', 'tokenizer', 'tokenizer.json'), join(bad, 'tokenizer', 'tokenizer.json'));
    rmSync(join(bad, 'text_encoder', 'model.safetensors'));
    r = await cli(['encode', '--pipeline', bad, '--prompt', 'x', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tessera: error: ModelFolderError: .*text_encoder\/model\.safetensors/);
    r = await cli(['encode', '--pipeline', join(FIXTURES, 'umt5_small', 'pipeline'), '--prompt', 'x', '--max-sequence-length', '0', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-sequence-length must be between 1/);
    r = await cli(['generate', '--model', join(EMB, 'transformer'), '--prompt', 'x', '--steps', '1', '--seed', '0', '--frames', '1', '--height', '4', '--width', '4', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--prompt needs --pipeline DIR/);
    expect(() => readFileSync(out)).toThrow();
  });
});
