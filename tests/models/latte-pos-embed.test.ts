// Latte's 2-D sincos position table against diffusers' formula, at sample sizes where
// interpolation_scale is not 1. LatteTransformer3DModel: interpolation_scale = max(sample_size // 64, 1)
// ("64 (= 512 pixart) has interpolation scale 1"); PatchEmbed(height=sample_size, patch_size):
// base_size = sample_size // patch_size; get_2d_sincos_pos_embed(D, (gh, gw), base_size,
// interpolation_scale): grid_h = arange(gh) / (gh / base_size) / interpolation_scale (grid_w
// alike), meshgrid(grid_w, grid_h) — w first — and per half get_1d_sincos_pos_embed_from_grid:
// [sin(pos·ω), cos(pos·ω)], ω_k = 1 / 10000^(k / (D/4)), k < D/4, in float64. Every other Latte
// config in the tests has sample_size 8 (scale 1 under any divisor), so a wrong divisor passed them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig, type LatteConfig } from '../../src/model/config.js';
import { loadRandomModel } from '../../src/model/presets.js';
import { Allocator } from '../../src/gpu/tensor.js';
import { randn } from '../../src/random.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const SMALL = JSON.parse(readFileSync(join(FIXTURES, 'latte_small', 'model', 'config.json'), 'utf8')) as Record<string, unknown>;

/** diffusers' get_2d_sincos_pos_embed for LatteTransformer3DModel, float64, [gh·gw, D]. */
function diffusersLattePosEmbed(D: number, gh: number, gw: number, sampleSize: number, patch: number): Float64Array {
  const interpolationScale = Math.max(Math.floor(sampleSize / 64), 1);
  const baseSize = Math.floor(sampleSize / patch);
  const oneD = (dim: number, pos: number) => {
    const q = dim / 2;
    const e = new Float64Array(dim);
    for (let k = 0; k < q; k++) {
      const a = pos * (1 / 10000 ** (k / q));
      e[k] = Math.sin(a);
      e[q + k] = Math.cos(a);
    }
    return e;
  };
  const out = new Float64Array(gh * gw * D);
  for (let h = 0; h < gh; h++)
    for (let w = 0; w < gw; w++) {
      out.set(oneD(D / 2, w / (gw / baseSize) / interpolationScale), (h * gw + w) * D);
      out.set(oneD(D / 2, h / (gh / baseSize) / interpolationScale), (h * gw + w) * D + D / 2);
    }
  return out;
}

/** The position tables forwards upload from now on (spied on Allocator.upload; restored in afterEach). */
function capturePosTables(): Float32Array[] {
  const tables: Float32Array[] = [];
  const upload = Allocator.prototype.upload;
  vi.spyOn(Allocator.prototype, 'upload').mockImplementation(function (this: Allocator, data, shape, dtype, label) {
    if (label === 'pos_embed' && data.length > 0) tables.push(Float32Array.from(data));
    return upload.call(this, data, shape, dtype, label);
  });
  return tables;
}

/** One table was uploaded and it is `want` within f32 rounding. */
function expectTable(tables: Float32Array[], want: Float64Array): void {
  expect(tables.length).toBe(1);
  expect(tables[0]!.length).toBe(want.length);
  let err = 0;
  tables[0]!.forEach((v, i) => (err = Math.max(err, Math.abs(v - want[i]!))));
  expect(err).toBeLessThan(1e-6);
}

describe('Latte interpolation_scale = max(sample_size // 64, 1)', () => {
  it('parseConfig gives diffusers\' scale at sample sizes 8 … 256', () => {
    const got = [8, 32, 63, 64, 96, 127, 128, 191, 192, 256].map((s) => (parseConfig({ ...SMALL, sample_size: s }) as LatteConfig).interpolationScale);
    expect(got).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 3, 4]);
  });
});

describe.skipIf(!hasGpu)('Latte position table vs diffusers get_2d_sincos_pos_embed', () => {
  afterEach(() => vi.restoreAllMocks());
  // [sample_size, latent H, W]: 128 (scale 2, base 64) square and not; 96 (scale 1, base 48); 256 (scale 4);
  // 129 (odd: base_size = 129 // 2 = 64, floored as diffusers' PatchEmbed does; 64.5 erred by 0.16)
  for (const [S, H, W] of [[128, 8, 8], [128, 6, 10], [96, 8, 12], [256, 4, 4], [129, 6, 6]] as const) {
    it(`sample_size ${S}, latents ${H}×${W}: the table the forward uploads is diffusers' (within f32 rounding)`, async () => {
      const tables = capturePosTables();
      const m = await loadRandomModel({ ...SMALL, sample_size: S }, { gpu: gpu!, seed: 1 });
      try {
        const c = m.config as LatteConfig;
        await m.forward({ hidden_states: { data: randn(4 * 2 * H * W, 3), shape: [1, 4, 2, H, W] }, timestep: [500], encoder_hidden_states: { data: randn(3 * 16, 4), shape: [1, 3, 16] } });
        expectTable(tables, diffusersLattePosEmbed(c.dim, H / c.patch, W / c.patch, S, c.patch));
      } finally {
        m.destroy();
      }
    });
  }
});

describe.skipIf(!hasGpu)('DiT position table: base_size = sample_size // patch_size, floored', () => {
  afterEach(() => vi.restoreAllMocks());
  // DiTTransformer2DModel's PatchEmbed takes the same base_size and interpolation_scale 1 (which the
  // formula above gives below sample_size 128): an odd sample_size 9 with patch 2 is base 4, not 4.5
  const DIT = JSON.parse(readFileSync(join(FIXTURES, 'dit_small', 'model', 'config.json'), 'utf8')) as Record<string, unknown>;
  it('sample_size 9, latents 6×6: the table the forward uploads is diffusers\' (within f32 rounding)', async () => {
    const tables = capturePosTables();
    const m = await loadRandomModel({ ...DIT, sample_size: 9 }, { gpu: gpu!, seed: 1 });
    try {
      await m.forward({ hidden_states: { data: randn(4 * 6 * 6, 3), shape: [1, 4, 6, 6] }, timestep: [500], class_labels: [3] });
      expectTable(tables, diffusersLattePosEmbed(64, 3, 3, 9, 2));
    } finally {
      m.destroy();
    }
  });
});
