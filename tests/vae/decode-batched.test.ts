// The decoder's images per pass (src/vae/decoder.ts): AutoencoderKL decodes N of the B·F independent images
// (batch items × frames) in one pass, AutoencoderKLWan its B batch items together frame by frame. Each is checked
// against decoding its images one at a time through the same VAE: the same numbers to f32 rounding (f16 storage:
// to f16 rounding), GroupNorm statistics and the mid-block attention per image, the plan's images per pass, the
// planner's chunks under a small binding limit, and the dispatches a pass costs (those of one image, not N times).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtypes, gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { relError } from '../helpers/compare.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadVae, type Vae } from '../../src/vae/vae.js';
import { PASS_BYTES, planDecode } from '../../src/vae/decoder.js';
import { parseVaeConfig } from '../../src/vae/config.js';
import { InputError } from '../../src/model/model.js';
import { randn } from '../../src/random.js';
import type { DType } from '../../src/gpu/tensor.js';
import type { TensorData } from '../../src/model/model.js';

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Latents [B, ...rest] whose batch item b is randn(seed b) · scales[b] (items differ, never copies). */
function items(shape: number[], scales: number[] = []): TensorData {
  const per = numel(shape.slice(1));
  const data = new Float32Array(numel(shape));
  for (let b = 0; b < shape[0]!; b++) data.set(randn(per, 11 + b).map((v) => v * (scales[b] ?? 1)), b * per);
  return { data, shape };
}

/** Item b of x [B, ...] as [1, ...]. */
const item = (x: TensorData, b: number): TensorData => {
  const per = numel(x.shape.slice(1));
  return { data: x.data.slice(b * per, (b + 1) * per), shape: [1, ...x.shape.slice(1)] };
};

/** Frame f of a video item [1, C, F, H, W] as [1, C, 1, H, W]. */
function frame(x: TensorData, f: number): TensorData {
  const [, C, F, H, W] = x.shape as [number, number, number, number, number];
  const data = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) data.set(x.data.subarray((c * F + f) * H * W, (c * F + f + 1) * H * W), c * H * W);
  return { data, shape: [1, C, 1, H, W] };
}

/** Puts a [1, C, 1, h, w] frame's sample into out [B, C, F, h, w] at (b, f). */
function putFrame(out: Float32Array, shape: number[], b: number, f: number, s: TensorData): void {
  const [, C, F, h, w] = shape as [number, number, number, number, number];
  for (let c = 0; c < C; c++) out.set(s.data.subarray(c * h * w, (c + 1) * h * w), ((b * C + c) * F + f) * h * w);
}

/** max|a − b| / max|b| (tests/helpers/compare.ts), over arrays of one length. */
function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return relError(a, b);
}

const TOL: Record<DType, number> = { f32: 1e-6, f16: 2e-3 };

async function withVae<T>(name: string, dtype: DType, fn: (v: Vae) => Promise<T>): Promise<T> {
  const vae = await loadVae(nodeFolder(join(FIXTURES, name, 'vae')), { gpu: gpu!, dtype });
  try {
    return await fn(vae);
  } finally {
    vae.dispose();
  }
}

/** Each batch item decoded alone (one image per pass: its own decode), concatenated. */
async function itemByItem(vae: Vae, x: TensorData): Promise<{ data: Float32Array; dispatches: number }> {
  const parts: Float32Array[] = [];
  let dispatches = 0;
  for (let b = 0; b < x.shape[0]!; b++) {
    parts.push((await vae.decode(item(x, b))).data);
    expect(vae.lastStats!.images).toBe(vae.kind === 'kl' && x.shape.length === 5 ? x.shape[2] : 1);
    dispatches = vae.lastStats!.dispatches;
  }
  const data = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { data, dispatches };
}

describe.skipIf(!hasGpu)('VAE decode: several images per pass = one at a time', () => {
  for (const dtype of dtypes) {
    it(`AutoencoderKL images, B 3 different items, 5×3 latents, mid-block attention (sd_vae_small, ${dtype} asked)`, async () => {
      await withVae('sd_vae_small', dtype, async (vae) => {
        const x = items([3, 4, 5, 3]);
        expect(vae.plan(x.shape).images).toBe(3);
        const one = await itemByItem(vae, x);
        const all = await vae.decode(x);
        expect(vae.lastStats!.images).toBe(3);
        // force_upcast: decoded in f32 whatever is asked
        expect(relErr(all.data, one.data)).toBeLessThanOrEqual(TOL.f32);
        // a pass of 3 images costs the dispatches of one, but for the attention's per-image passes
        expect(vae.lastStats!.dispatches).toBeLessThan(1.2 * one.dispatches);
      });
    });

    it(`Latte-shaped AutoencoderKL video [2, 4, 3, 5, 3] frame by frame, all 6 frames in one pass (${dtype})`, async () => {
      await withVae('vae_kl_latte_bf16', dtype, async (vae) => {
        const x = items([2, 4, 3, 5, 3]);
        const p = vae.plan(x.shape);
        expect([p.images, p.bands]).toEqual([6, 1]);
        const all = await vae.decode(x);
        expect(vae.lastStats!.images).toBe(6);
        const alone = new Float32Array(all.data.length);
        let dispatches = 0;
        for (let b = 0; b < 2; b++) {
          for (let f = 0; f < 3; f++) {
            const s = await vae.decode(frame(item(x, b), f));
            expect(vae.lastStats!.images).toBe(1);
            dispatches = vae.lastStats!.dispatches;
            putFrame(alone, all.shape, b, f, s);
          }
        }
        expect(relErr(all.data, alone)).toBeLessThanOrEqual(TOL[dtype]);
        expect(vae.lastStats!.dispatches).toBe(dispatches);
        const batched = await vae.decode(x);
        expect(batched.data).toEqual(all.data);
      });
    });

    it(`AutoencoderKLWan B 2 items decoded together, frame by frame (causal caches per item) (${dtype})`, async () => {
      await withVae('wan_vae_small', dtype, async (vae) => {
        const x = items([2, 4, 3, 3, 5]);
        expect(vae.plan(x.shape).images).toBe(2);
        const one = await itemByItem(vae, x);
        const all = await vae.decode(x);
        expect(vae.lastStats!.images).toBe(2);
        expect(relErr(all.data, one.data)).toBeLessThanOrEqual(TOL[dtype]);
        expect(vae.lastStats!.dispatches).toBeLessThan(1.2 * one.dispatches);
      });
    });
  }

  it('GroupNorm statistics per image: an item of large values beside one of small values', async () => {
    await withVae('vae_kl_latte_bf16', 'f32', async (vae) => {
      const x = items([2, 4, 4, 3], [300, 0.003]);
      const one = await itemByItem(vae, x);
      const all = await vae.decode(x);
      expect(vae.lastStats!.images).toBe(2);
      // the small item alone: mixed statistics would drown it in the large item's variance
      const half = all.data.length / 2;
      expect(relErr(all.data.subarray(half), one.data.subarray(half))).toBeLessThanOrEqual(TOL.f32);
      expect(relErr(all.data.subarray(0, half), one.data.subarray(0, half))).toBeLessThanOrEqual(TOL.f32);
    });
  });

  it('a small binding limit: the planner takes fewer images per pass (chunks of 2 of 6, then 1 in row bands), same numbers', async () => {
    await withVae('sd_vae_small', 'f32', async (vae) => {
      const x = items([3, 4, 2, 5, 3]);
      const whole = vae.plan(x.shape);
      expect(whole.images).toBe(6);
      const one = vae.plan(x.shape, { maxBinding: whole.largestBinding / 6 });
      expect([one.images, one.bands]).toEqual([1, 1]);
      const maxBinding = Math.floor(2.5 * one.largestBinding);
      const p = vae.plan(x.shape, { maxBinding });
      expect([p.images, p.bands]).toEqual([2, 1]);
      expect(p.largestBinding).toBeLessThanOrEqual(maxBinding);
      expect(p.largestName).toMatch(/^(.+ band \[2,|mid-block attention frame \[30,)/);
      const ref = await vae.decode(x);
      const chunked = await vae.decode(x, { maxBinding });
      expect(vae.lastStats!.images).toBe(2);
      expect(relErr(chunked.data, ref.data)).toBeLessThanOrEqual(TOL.f32);
      // one image alone in row bands: images 1
      const banded = vae.plan(x.shape, { bands: 2 });
      expect([banded.images, banded.bands]).toEqual([1, 2]);
      const tiled = await vae.decode(x, { bands: 2 });
      expect(vae.lastStats!.images).toBe(1);
      expect(relErr(tiled.data, ref.data)).toBeLessThanOrEqual(1e-5);
    });
  });

  it('under loadVae maxMemory a decode takes fewer images per pass (down to 1) rather than being refused', async () => {
    const dir = nodeFolder(join(FIXTURES, 'vae_kl_latte_bf16', 'vae'));
    const x = items([4, 4, 5, 5]);
    const probe = await loadVae(dir, { gpu: gpu! });
    let budget: number;
    let ref: TensorData;
    try {
      const four = await probe.decodeMemory(x.shape);
      const single = await probe.decodeMemory([1, 4, 5, 5]);
      ref = await probe.decode(x);
      expect(probe.lastStats!.images).toBe(4);
      // between one image's and four images' needs
      budget = single.weights + single.activations + Math.floor((four.activations - single.activations) / 4);
      expect(budget).toBeLessThan(four.weights + four.activations);
    } finally {
      probe.dispose();
    }
    const vae = await loadVae(dir, { gpu: gpu!, maxMemory: budget });
    try {
      const m = await vae.decodeMemory(x.shape);
      expect(m.weights + m.activations).toBeLessThanOrEqual(budget);
      const out = await vae.decode(x);
      expect(vae.lastStats!.images).toBeLessThan(4);
      expect(vae.lastStats!.peakBytes + m.weights).toBeLessThanOrEqual(budget);
      expect(relErr(out.data, ref.data)).toBeLessThanOrEqual(TOL.f32);
    } finally {
      vae.dispose();
    }
  });
});

describe.skipIf(!hasGpu)('VAE decode: latents of the wrong length', () => {
  it('one line naming the tensor, the shape and the count it needs', async () => {
    await withVae('sd_vae_small', 'f32', async (vae) => {
      await expect(vae.decode({ data: new Float32Array(59), shape: [1, 4, 5, 3] })).rejects.toThrow(new InputError('latents: 59 values for shape [1,4,5,3], which needs 60', { option: 'latents' }));
    });
  });
});

describe('planDecode images per pass (no GPU)', () => {
  const config = (name: string) => parseVaeConfig(JSON.parse(readFileSync(join(FIXTURES, name, 'vae', 'config.json'), 'utf8')));
  it('KL: every frame of every item; Wan: the items (frames are causal); row bands: 1', () => {
    const kl = config('vae_kl_latte_bf16');
    const wan = config('wan_vae_small');
    expect(planDecode(kl, [2, 4, 3, 5, 3], 'f32', 1 << 30).images).toBe(6);
    expect(planDecode(kl, [3, 4, 5, 3], 'f32', 1 << 30).images).toBe(3);
    expect(planDecode(wan, [2, 4, 3, 5, 3], 'f32', 1 << 30).images).toBe(2);
    expect(planDecode(wan, [2, 4, 3, 5, 3], 'f32', 1 << 30, 2).images).toBe(1);
    expect(planDecode(kl, [2, 4, 3, 5, 3], 'f32', 1 << 30, undefined, 4).images).toBe(4);
  });
  it('the largest N whose largest binding fits, and the request that fits one image still fits', () => {
    const kl = config('vae_kl_latte_bf16');
    const shape = [4, 4, 4, 6, 7];
    const one = planDecode(kl, shape, 'f32', 1 << 30, undefined, 1);
    for (const n of [1, 3, 7, 16]) {
      const p = planDecode(kl, shape, 'f32', n * one.largestBinding + 3);
      expect(p.images, `${n}`).toBe(n);
      expect(p.bands).toBe(1);
      expect(p.largestBinding).toBeLessThanOrEqual(n * one.largestBinding + 3);
    }
    // below one image's largest binding: row bands, one image per pass, as before
    const banded = planDecode(kl, shape, 'f32', one.largestBinding - 1);
    expect([banded.images > 1, banded.bands > 1]).toEqual([false, true]);
  });
  it('a pass stops at PASS_BYTES in its largest tensor: large frames one a pass however large the binding limit', () => {
    const kl = config('vae_kl_latte_bf16');
    const one = (shape: number[]) => planDecode(kl, shape, 'f32', 2 ** 34, undefined, 1).largestBinding;
    // frames whose largest tensor is above PASS_BYTES: one image a pass even where 16 GiB bindings would hold them all
    const big = [2, 4, 2, 600, 600];
    expect(one(big)).toBeGreaterThan(PASS_BYTES);
    expect(planDecode(kl, big, 'f32', 2 ** 34).images).toBe(1);
    // smaller frames: as many as keep the largest tensor within PASS_BYTES
    const mid = [8, 4, 4, 200, 200];
    const m = Math.floor(PASS_BYTES / one(mid));
    expect(m).toBeGreaterThan(1);
    expect(m).toBeLessThan(32);
    const p = planDecode(kl, mid, 'f32', 2 ** 34);
    expect(p.images).toBe(m);
    expect(p.largestBinding).toBeLessThanOrEqual(PASS_BYTES);
  });
  it('maxImages: a positive integer', () => {
    const kl = config('vae_kl_latte_bf16');
    expect(() => planDecode(kl, [2, 4, 5, 3], 'f32', 1 << 30, undefined, 0)).toThrow(new InputError('maxImages: a positive integer (images per pass), got 0', { option: 'maxImages' }));
  });
});
