// `tessera decode` end to end: a held-out style case (bf16 weights, batch 2, 4 latent frames,
// odd non-square latents) and the public goldens through the CLI; bad inputs give one error
// line naming the tensor or flag, before any weight is read, and leave no output file.
import '../helpers/optimised-compile.js'; // first: the optimised lavapipe compile (run time dominates here)
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { FIXTURES, ROOT, runCase } from '../helpers/golden.js';
import { GOLDEN_F32 } from '../tolerances.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { writeFileSync } from 'node:fs';
import { readInputs } from '../../src/io/inputs.js';
import { postprocessSample } from '../../src/video/frames.js';
import { relError } from '../helpers/compare.js';
import { tesseraInProcess } from '../helpers/cli.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'tessera-vae-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function tessera(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const r = await run(process.execPath, [join(ROOT, 'bin', 'tessera.mjs'), ...args], { cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' } });
    return { code: 0, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

/** As tessera(), through the CLI's entry in this process (tesseraInProcess): for refusals before any GPU work. */
const refused = async (args: string[]): Promise<{ code: number; stderr: string }> => {
  const r = await tesseraInProcess(args);
  return { code: r.code ?? -1, stderr: r.stderr };
};

describe.skipIf(!hasGpu)('tessera decode (CLI)', () => {
  for (const name of ['vae_wan_bf16_b2', 'vae_kl_latte_bf16', 'wan_vae_small', 'sd_vae_small']) {
    it(`${name} through the CLI within ${GOLDEN_F32} of diffusers`, async () => {
      const { rel } = await runCase(name);
      console.log(`${name} via tessera decode: ${rel.toExponential(2)}`);
      expect(rel).toBeLessThanOrEqual(GOLDEN_F32);
    });
  }

  it("generate's --out file as is (latents + video): decoded to the video generate wrote", async () => {
    // the embedded pipeline (models/tessera-shapes), one frame of 16×16 pixels, one step
    const g = join(tmp, 'generated.safetensors');
    let r = await tessera(['generate', '--prompt', 'a red circle', '--seed', '1', '--frames', '1', '--height', '16', '--width', '16', '--steps', '1', '--out', g]);
    expect(r.code, r.stderr).toBe(0);
    const gen = await readInputs(g);
    expect([...gen.keys()].sort()).toEqual(['latents', 'video']);
    const out = join(tmp, 'from-generate.safetensors');
    r = await tessera(['decode', '--vae', join(ROOT, 'models', 'tessera-shapes', 'vae'), '--inputs', g, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const sample = (await readInputs(out)).get('sample')!;
    expect(sample.shape).toEqual([1, 3, 1, 16, 16]);
    const video = postprocessSample({ data: sample.f32!, shape: sample.shape });
    expect(video.shape).toEqual(gen.get('video')!.shape);
    const rel = relError(video.data, gen.get('video')!.f32!);
    console.log(`decode of generate's latents vs its video: ${rel.toExponential(2)}`);
    expect(rel).toBeLessThanOrEqual(GOLDEN_F32);
  }, 600_000);

  it('bad inputs: one error line naming the tensor, no output file', async () => {
    const vae = join(FIXTURES, 'wan_vae_small', 'vae');
    const out = join(tmp, 'out.safetensors');
    const bad = join(tmp, 'bad.safetensors');
    // 5 channels where the VAE has z_dim 4
    writeFileSync(bad, writeSafetensors([{ name: 'latents', dtype: 'F32', shape: [1, 5, 2, 4, 4], data: new Float32Array(160) }]));
    let r = await tessera(['decode', '--vae', vae, '--inputs', bad, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('tessera: error'))).toHaveLength(1);
    expect(r.stderr).toMatch(/tessera: error: InputError: .*bad\.safetensors: latents: 5 channels, the VAE config has 4 \(z_dim\)/);
    expect(existsSync(out)).toBe(false);
    // a tensor that is not "latents"
    writeFileSync(bad, writeSafetensors([{ name: 'hidden_states', dtype: 'F32', shape: [1, 4, 1, 2, 2], data: new Float32Array(16) }]));
    // the rest through the CLI's entry in this process (main(), the launcher's exit status): refusals before any
    // GPU work, where a spawn only added two Node starts and a module load (the first one above stays spawned)
    r = await refused(['decode', '--vae', vae, '--inputs', bad, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unexpected tensor "hidden_states"; expected latents, video, images$/m);
    // generate's "video" is tolerated next to latents, but not in place of them
    writeFileSync(bad, writeSafetensors([{ name: 'video', dtype: 'F32', shape: [1, 1, 4, 4, 3], data: new Float32Array(48) }]));
    r = await refused(['decode', '--vae', vae, '--inputs', bad, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tessera: error: InputError: .*bad\.safetensors: missing tensor "latents": needs latents \(video\/images beside it are ignored\)$/m);
    expect(existsSync(out)).toBe(false);
    // a folder that is not a VAE
    r = await refused(['decode', '--vae', join(FIXTURES, 'wan_small', 'model'), '--inputs', join(FIXTURES, 'wan_vae_small', 'inputs.safetensors'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('tessera: error'))).toEqual([
      `tessera: error: ConfigError: ${join(FIXTURES, 'wan_small', 'model')}/config.json: _class_name "WanTransformer3DModel" is not a supported VAE (AutoencoderKLWan, AutoencoderKL)`,
    ]);
    expect(existsSync(out)).toBe(false);
    r = await refused(['decode', '--inputs', bad, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required flag --vae/);
  });
});

// checked before the VAE is loaded (no GPU needed), naming the file as the other input errors do
describe('tessera decode: latents with a zero dim or a non-finite value', () => {
  it.each([
    ['NaN', [1, 4, 2, 4, 4], 0, NaN, 'latents: non-finite value NaN at flat index 0'],
    ['Infinity', [1, 4, 2, 4, 4], 5, Infinity, 'latents: non-finite value Infinity at flat index 5'],
    ['a zero dim', [1, 4, 0, 4, 4], -1, 0, 'latents: every dim must be a positive integer, found [1,4,0,4,4]'],
  ])('%s: one line naming the file and the tensor, no output', async (_what, shape, at, value, msg) => {
    const bad = join(tmp, `bad-${_what.replace(/ /g, '-')}.safetensors`);
    const out = join(tmp, 'never.safetensors');
    const data = new Float32Array((shape as number[]).reduce((a, b) => a * b, 1));
    if ((at as number) >= 0) data[at as number] = value as number;
    writeFileSync(bad, writeSafetensors([{ name: 'latents', dtype: 'F32', shape: shape as number[], data }]));
    const r = await refused(['decode', '--vae', join(FIXTURES, 'wan_vae_small', 'vae'), '--inputs', bad, '--out', out]);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('tessera: error'))).toEqual([`tessera: error: InputError: ${bad}: ${msg}`]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });
});
