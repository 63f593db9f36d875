// VAE decoders against cases made by the real diffusers in float64 (tests/fixtures/vae_* by
// scripts/fixtures/make_vae_cases.py; wan_vae_small / sd_vae_small copied from shared/golden),
// in-process; row-band tiling against the untiled decode; the real-size band plans.
import { join } from 'node:path';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { GOLDEN_F32, goldenF32Tol, VAE_F16_ESTIMATE, vaeF16Tol } from '../tolerances.js';
import { readInputs } from '../../src/io/inputs.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadVae, type Vae } from '../../src/vae/vae.js';
import { planDecode } from '../../src/vae/decoder.js';
import { parseVaeConfig } from '../../src/vae/config.js';
import { InputError } from '../../src/model/model.js';
import { LimitError } from '../../src/model/memory.js';
import { thrown } from '../helpers/errors.js';

const MiB = 2 ** 20;

async function caseData(name: string) {
  const inputs = await readInputs(join(FIXTURES, name, 'inputs.safetensors'));
  const expected = await readInputs(join(FIXTURES, name, 'expected.safetensors'));
  const l = inputs.get('latents')!;
  const s = expected.get('sample')!;
  return { latents: { data: l.f32!, shape: l.shape }, sample: { data: s.f32!, shape: s.shape } };
}

/** The error's root mean square / max|b| (tests/tolerances.ts VAE_F16_ESTIMATE's rms). */
function rmsErr(a: Float32Array, b: Float32Array): number {
  let s = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    s += (a[i]! - b[i]!) ** 2;
    m = Math.max(m, Math.abs(b[i]!));
  }
  return Math.sqrt(s / b.length) / m;
}

/** max|a − b| / max|b| (the golden cases' metric). */
function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

async function withVae<T>(name: string, fn: (v: Vae) => Promise<T>): Promise<T> {
  const vae = await loadVae(nodeFolder(join(FIXTURES, name, 'vae')), { gpu: gpu! });
  try {
    return await fn(vae);
  } finally {
    vae.dispose();
  }
}

const CASES = [
  ['wan_vae_small', 'AutoencoderKLWan f32, 3 latent frames'],
  ['vae_wan_bf16_b2', 'AutoencoderKLWan bf16 weights, batch 2, 4 latent frames, 3×5'],
  ['vae_wan_f16_t2', 'AutoencoderKLWan f16 weights, one temporal upsampler, 5×2'],
  ['sd_vae_small', 'AutoencoderKL f32 images'],
  ['vae_kl_f16_b2', 'AutoencoderKL f16 weights, batch 2, 3 up blocks, no post_quant_conv, 3×5'],
  ['vae_kl_latte_bf16', "AutoencoderKL video latents frame by frame (Latte), bf16 weights, no mid attention"],
] as const;

describe.skipIf(!hasGpu)('VAE decode vs diffusers (float64)', () => {
  for (const [name, what] of CASES) {
    it(`${name}: ${what}`, async () => {
      const { latents, sample } = await caseData(name);
      const tol = JSON.parse(readFileSync(join(FIXTURES, name, 'case.json'), 'utf8')).tolerance;
      const out = await withVae(name, (v) => v.decode(latents));
      expect(out.shape).toEqual(sample.shape);
      const rel = relErr(out.data, sample.data);
      console.log(`${name}: max|out − expected| / max|expected| = ${rel.toExponential(2)}`);
      expect(rel).toBeLessThanOrEqual(goldenF32Tol(typeof tol === 'number' ? tol : tol.max));
    });
  }

  // f16 storage, every case: the max error within twice the case's simulated-f16 estimate, the rms
  // within 1.25× (tests/tolerances.ts VAE_F16_ESTIMATE, scripts/fixtures/vae_f16_estimate.py). AutoencoderKL runs in f16 only without
  // force_upcast, so those cases decode from a copy of their folder with force_upcast false.
  for (const [name] of CASES) {
    it.skipIf(!gpu?.f16)(`${name} in f16 storage: max error within 2×, rms within 1.25× its simulated-f16 estimate`, async () => {
      const { latents, sample } = await caseData(name);
      const src = join(FIXTURES, name, 'vae');
      const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
      const dir = mkdtempSync(join(tmpdir(), 'tessera-vae-f16-'));
      try {
        writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...(config._class_name === 'AutoencoderKL' ? { force_upcast: false } : {}) }));
        copyFileSync(join(src, 'diffusion_pytorch_model.safetensors'), join(dir, 'diffusion_pytorch_model.safetensors'));
        const vae = await loadVae(nodeFolder(dir), { gpu: gpu!, dtype: 'f16' });
        try {
          expect(vae.dtype).toBe('f16');
          const out = (await vae.decode(latents)).data;
          const [max, rms] = [relErr(out, sample.data), rmsErr(out, sample.data)];
          const e = VAE_F16_ESTIMATE[name]!;
          const bound = vaeF16Tol(name);
          console.log(`${name} in f16 storage: max ${max.toExponential(2)} rms ${rms.toExponential(2)} (estimates ${e.max.toExponential(2)}, ${e.rms.toExponential(2)})`);
          expect(max).toBeLessThanOrEqual(bound.max);
          expect(rms).toBeLessThanOrEqual(bound.rms);
        } finally {
          vae.dispose();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('row bands with halos give the untiled numbers (Wan: 1 vs 2 and 5 bands; KL: 1 vs 3 bands)', async () => {
    const wan = await caseData('vae_wan_f16_t2'); // latents 5 rows
    await withVae('vae_wan_f16_t2', async (v) => {
      const one = await v.decode(wan.latents, { bands: 1 });
      for (const bands of [2, 5]) {
        const many = await v.decode(wan.latents, { bands });
        // convolutions and per-pixel norms read the same values in the same order: identical
        expect(relErr(many.data, one.data)).toBeLessThanOrEqual(1e-6);
      }
      // a binding limit too small for one band makes the plan split the frame by itself
      const p = v.plan(wan.latents.shape, { maxBinding: 1200 });
      expect(p.bands).toBeGreaterThan(1);
      const auto = await v.decode(wan.latents, { maxBinding: 1200 });
      expect(relErr(auto.data, one.data)).toBeLessThanOrEqual(1e-6);
    });
    const kl = await caseData('vae_kl_f16_b2'); // latents 3 rows, GroupNorm statistics over all bands
    await withVae('vae_kl_f16_b2', async (v) => {
      const one = await v.decode(kl.latents, { bands: 1 });
      const three = await v.decode(kl.latents, { bands: 3 });
      // GroupNorm sums per band then adds the partial sums: f32 rounding only
      expect(relErr(three.data, one.data)).toBeLessThan(2e-6);
    });
  });

  it('weight variants (diffusion_pytorch_model.fp16.safetensors) and force_upcast (f32 whatever is asked)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-vae-variant-'));
    try {
      const src = join(FIXTURES, 'vae_kl_f16_b2', 'vae');
      copyFileSync(join(src, 'config.json'), join(dir, 'config.json'));
      copyFileSync(join(src, 'diffusion_pytorch_model.safetensors'), join(dir, 'diffusion_pytorch_model.fp16.safetensors'));
      await expect(loadVae(nodeFolder(dir), { gpu: gpu! })).rejects.toThrow(/diffusion_pytorch_model\.safetensors/);
      const vae = await loadVae(nodeFolder(dir), { gpu: gpu!, variant: 'fp16', dtype: 'f16' });
      try {
        expect(vae.kind).toBe('kl');
        expect(vae.dtype).toBe('f32'); // the config says force_upcast: true
        const { latents, sample } = await caseData('vae_kl_f16_b2');
        expect(relErr((await vae.decode(latents)).data, sample.data)).toBeLessThan(GOLDEN_F32); // f32 (force_upcast)
      } finally {
        vae.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad latents before GPU work, naming what was expected', async () => {
    await withVae('wan_vae_small', async (v) => {
      expect(thrown(() => v.plan([1, 5, 2, 4, 4]), InputError).message).toMatch(/5 channels.*z_dim/);
      expect(thrown(() => v.plan([1, 4, 4, 4]), InputError).message).toMatch(/\[B, 4, F, H, W\]/);
      await expect(v.decode({ data: new Float32Array(3), shape: [1, 4, 1, 2, 2] })).rejects.toThrow(/3 values/);
    });
  });
});

// Real sizes on lavapipe's 128 MiB storage binding limit: planning only (no GPU).
describe('VAE band plans at real sizes', () => {
  const wan21 = parseVaeConfig({ _class_name: 'AutoencoderKLWan', base_dim: 96, z_dim: 16, dim_mult: [1, 2, 4, 4], num_res_blocks: 2, temperal_downsample: [false, true, true], latents_mean: Array(16).fill(0), latents_std: Array(16).fill(1) });
  const sdConfig = { _class_name: 'AutoencoderKL', block_out_channels: [128, 256, 512, 512], layers_per_block: 2, norm_num_groups: 32, latent_channels: 4, up_block_types: Array(4).fill('UpDecoderBlock2D') };
  // a VAE that runs in f16 when asked (force_upcast true, the default, keeps it in f32: below)
  const sdVae = parseVaeConfig({ ...sdConfig, force_upcast: false });

  it('Wan2.1 480p × 81 frames ([1,16,21,60,104]) fits 128 MiB bindings in row bands', () => {
    for (const dtype of ['f32', 'f16'] as const) {
      const p = planDecode(wan21, [1, 16, 21, 60, 104], dtype, 128 * MiB);
      expect(p.outShape).toEqual([1, 3, 81, 480, 832]);
      expect(p.largestBinding).toBeLessThanOrEqual(128 * MiB);
      console.log(`Wan 480p×81 ${dtype}: ${p.bands} bands of ${p.bandRows.join('/')} latent rows, largest binding ${(p.largestBinding / MiB).toFixed(1)} MiB (${p.largestName})`);
      // one 480×832 frame × 96 channels is 146 MiB in f32: f32 must split
      if (dtype === 'f32') expect(p.bands).toBeGreaterThan(1);
    }
  });

  it('SD VAE 512² and 1024² fit 128 MiB bindings; a frame too wide is refused with the numbers', () => {
    for (const s of [64, 128]) {
      const p = planDecode(sdVae, [1, 4, s, s], 'f32', 128 * MiB);
      expect(p.outShape).toEqual([1, 3, 8 * s, 8 * s]);
      expect(p.largestBinding).toBeLessThanOrEqual(128 * MiB);
      console.log(`SD VAE ${8 * s}²: ${p.bands} bands, largest binding ${(p.largestBinding / MiB).toFixed(1)} MiB (${p.largestName})`);
    }
    const e = thrown(() => planDecode(sdVae, [1, 4, 8, 40000], 'f32', 128 * MiB), LimitError);
    expect(e.message).toMatch(/MiB.*128\.0 MiB/);
    // f16 is suggested only when the whole decode would plan in f16: at 8×40000 latents the attention frame
    // alone is 312.5 MiB in f16, at 8×5000 one row band is 195.3 MiB in f16 (both offered f16 before)…
    expect(e.message).toMatch(/: use smaller latents$/);
    expect(thrown(() => planDecode(sdVae, [1, 4, 8, 5000], 'f32', 128 * MiB), LimitError).message).toMatch(/needs 390\.6 MiB, the binding limit is 128\.0 MiB: use a narrower frame$/);
    // …while at 8×2000 one row band is 156.3 MiB in f32 and half that in f16
    const half = thrown(() => planDecode(sdVae, [1, 4, 8, 2000], 'f32', 128 * MiB), LimitError);
    expect(half.message).toMatch(/needs 156\.3 MiB, the binding limit is 128\.0 MiB: use a narrower frame or dtype: 'f16'$/);
    expect(planDecode(sdVae, [1, 4, 8, 2000], 'f16', 128 * MiB).largestBinding).toBeLessThanOrEqual(128 * MiB);
    // force_upcast: the VAE decodes in f32 whatever dtype is asked, so f16 is not offered
    const upcast = parseVaeConfig({ ...sdConfig, force_upcast: true });
    expect(thrown(() => planDecode(upcast, [1, 4, 8, 2000], 'f32', 128 * MiB), LimitError).message).toMatch(/needs 156\.3 MiB, the binding limit is 128\.0 MiB: use a narrower frame$/);
  });
});
