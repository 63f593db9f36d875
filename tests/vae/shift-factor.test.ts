// AutoencoderKL's shift_factor: DiTPipeline and LattePipeline decode vae.decode(latents / scaling_factor) and
// never add shift_factor (only SD3/Flux pipelines do, which tessera does not run), so tessera's decode, `tessera
// decode` and the DiT/Latte pipelines ignore it, with one warning line naming the config key and why.
// tests/fixtures/sd_vae_small_shift is sd_vae_small with "shift_factor": 0.5 (same weights and expected sample);
// adding the shift lands at 2.7e-1 of diffusers.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES, loadCase, runCase } from '../helpers/golden.js';
import { tesseraCli } from '../helpers/cli.js';
import { relError } from '../helpers/compare.js';
import { goldenF32Tol } from '../tolerances.js';
import { readInputs } from '../../src/io/inputs.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadVae } from '../../src/vae/vae.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-shift-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const warning = (file: string) =>
  `warning: ${file}: shift_factor 0.5 is ignored: the pipelines tessera runs (DiTPipeline, LattePipeline) decode latents / scaling_factor only, as diffusers does; SD3/Flux pipelines add shift_factor, and tessera does not run those`;

/** A copy of a fixture folder with the VAE config's shift_factor set to `shift`. */
function withShift(src: string, vaeSub: string, shift: number | null): string {
  const dir = mkdtempSync(join(tmp, 'copy-'));
  cpSync(src, dir, { recursive: true });
  const file = join(dir, vaeSub, 'config.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), shift_factor: shift }));
  return dir;
}

describe.skipIf(!hasGpu)('AutoencoderKL shift_factor is not applied (DiTPipeline / LattePipeline)', () => {
  it('loadVae + decode: the sample diffusers decodes from latents / scaling_factor, one warning naming the key', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const dir = join(FIXTURES, 'sd_vae_small_shift');
    const inputs = await readInputs(join(dir, 'inputs.safetensors'));
    const expected = (await readInputs(join(dir, 'expected.safetensors'))).get('sample')!;
    const vae = await loadVae(nodeFolder(join(dir, 'vae')), { gpu: gpu! });
    try {
      expect(vae.config.kind === 'kl' && vae.config.shiftFactor).toBe(0.5);
      const l = inputs.get('latents')!;
      const out = await vae.decode({ data: l.f32!, shape: l.shape });
      await vae.decode({ data: l.f32!, shape: l.shape }); // a second decode warns no more
      const rel = relError(out.data, expected.f32!);
      console.log(`sd_vae_small_shift: ${rel.toExponential(2)} (with the shift added: 2.7e-1)`);
      expect(rel).toBeLessThanOrEqual(goldenF32Tol(loadCase('sd_vae_small_shift').tolerance.max));
    } finally {
      vae.dispose();
    }
    expect(warn.mock.calls).toEqual([[warning(join(dir, 'vae', 'config.json'))]]);
  });

  it('shift_factor null or 0: no warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    for (const shift of [null, 0]) {
      const dir = withShift(join(FIXTURES, 'sd_vae_small', 'vae'), '.', shift);
      (await loadVae(nodeFolder(dir), { gpu: gpu! })).dispose();
    }
    expect(warn).not.toHaveBeenCalled();
  });

  it('tessera decode: within the golden tolerance of diffusers, the warning once on stderr', async () => {
    const r = await runCase('sd_vae_small_shift');
    console.log(`tessera decode sd_vae_small_shift: ${r.rel.toExponential(2)}`);
    expect(r.rel).toBeLessThanOrEqual(goldenF32Tol(loadCase('sd_vae_small_shift').tolerance.max));
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    expect(lines).toEqual([warning(join(FIXTURES, 'sd_vae_small_shift', 'vae', 'config.json'))]);
  }, 300_000);

  it("generate --pipeline (DiTPipeline) with shift_factor 0.5: DiTPipeline's images, the warning once", async () => {
    const c = loadCase('dit_pipeline');
    const dir = withShift(join(FIXTURES, 'dit_pipeline', 'pipeline'), 'vae', 0.5);
    const out = join(tmp, 'dit.safetensors');
    const args = c.cli.args.map((a) => a.replace('{case}/pipeline', dir).replace('{case}', join(FIXTURES, 'dit_pipeline')).replace('{out}', out));
    const r = await tesseraCli([c.cli.subcommand, ...args], { timeoutMs: 280_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('warning: '))).toEqual([warning(join(dir, 'vae', 'config.json'))]);
    const got = (await readInputs(out)).get('images')!;
    const want = (await readInputs(join(FIXTURES, 'dit_pipeline', 'expected.safetensors'))).get('images')!;
    const rel = relError(got.f32!, want.f32!);
    console.log(`dit_pipeline with shift_factor 0.5: images rel ${rel.toExponential(2)}`);
    expect(rel).toBeLessThanOrEqual(goldenF32Tol(c.tolerance.max));
  }, 300_000);
});
