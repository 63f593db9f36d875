// Index widths at huge sizes, on adapters whose bindings pass 4 GiB (no GPU: grids, dry recordings and
// band plans only). Kernels count in u32: an element count of a binding is refused past 2^32 − 1
// (count-limits.test.ts), and what the planners accept must stay within it everywhere:
// - grid1D's x·y split of a 1-D workgroup count: the kernels' `gid.x + gid.y·nwg.x·WG` is a u32, so a
//   grid of more than 2^32 invocations wrapped its last ids to 0, 1, … (inside the count: those
//   elements' work done twice). 4294958080 elements at WG 256 made 65281 × 257 workgroups, 2^32 + 256.
// - the VAE decode's row bands and attention blocks followed bytes alone: on a binding past 8 GiB (f16)
//   a band of more than 2^32 − 1 elements was planned, and the recording then refused the decode
//   (`use fewer frames…`) where more bands fit.
import { describe, expect, it } from 'vitest';
import { DryAllocator, planningGpu } from '../../src/gpu/memory-plan.js';
import { grid1D, Plan, U32_MAX } from '../../src/gpu/plan.js';
import { bytesPer } from '../../src/gpu/tensor.js';
import { LimitError } from '../../src/model/memory.js';
import { stridedCopy } from '../../src/ops/elementwise.js';
import { attentionBlockRows } from '../../src/ops/vae-attention.js';
import { parseVaeConfig } from '../../src/vae/config.js';
import { planDecode } from '../../src/vae/decoder.js';
import { thrown } from '../helpers/errors.js';

const GiB = 2 ** 30;
// bindings of a terabyte: only the element counts and the grid limit bound anything
const HUGE = { maxStorageBufferBindingSize: 2 ** 40, maxBufferSize: 2 ** 40 };

describe('grid1D: a folded grid never holds more than 2^32 invocations when the count fits in u32', () => {
  // counts near 2^32 (the window where an x·y split could pass it), and ordinary ones
  const counts = [4294958080, U32_MAX, 2 ** 32 - 65536, 2 ** 32 - 257 * 256, 3 * 2 ** 30 + 12345, 2 ** 31 + 1, 16777217, 123456789, 65536 * 256 + 1];
  for (const max of [65535, 40000, 2 ** 20 - 1]) {
    for (const wg of [64, 128, 256]) {
      it(`maxComputeWorkgroupsPerDimension ${max}, WG ${wg}`, () => {
        const gpu = planningGpu({ ...HUGE, maxComputeWorkgroupsPerDimension: max });
        for (const n of counts) {
          const groups = Math.ceil(n / wg);
          const [x, y, z] = grid1D(gpu, groups);
          const at = `n ${n}: grid ${x}×${y}×${z}`;
          expect(z, at).toBe(1);
          // within the limit (every count here is far below max² workgroups)
          expect(x, at).toBeLessThanOrEqual(max);
          expect(y, at).toBeLessThanOrEqual(max);
          expect(x * y, at).toBeGreaterThanOrEqual(groups);
          // the largest id the kernel forms, (x·y − 1)·WG + WG − 1, is a u32: no wrap to 0
          expect(x * y * wg, at).toBeLessThanOrEqual(2 ** 32);
          // and the overshoot (early-returning workgroups) stays small
          expect(x * y - groups, at).toBeLessThan(Math.max(1, x));
        }
      });
    }
  }

  it('the audit case: 4294958080 elements at WG 256 (65281 × 257 workgroups before)', () => {
    const gpu = planningGpu(HUGE);
    expect(grid1D(gpu, Math.ceil(4294958080 / 256))).toEqual([512, 32768, 1]);
    // below the limit and at the old test's small limits the grid is what it was
    expect(grid1D(gpu, 65535)).toEqual([65535, 1, 1]);
    const small = planningGpu({ maxComputeWorkgroupsPerDimension: 16 });
    expect(grid1D(small, 17 * 16)).toEqual([16, 17, 1]);
    expect(grid1D(small, 384)).toEqual([16, 24, 1]);
    // up to max × max workgroups a grid within the limit is still found (the even split past 2^31)
    for (const g of [32768 * 65535 + 1, 65535 * 65535]) {
      const [x, y] = grid1D(gpu, g);
      expect(x).toBeLessThanOrEqual(65535);
      expect(y).toBeLessThanOrEqual(65535);
      expect(x * y).toBeGreaterThanOrEqual(g);
    }
  });

  it('a strided copy of 4294958080 f16 elements on a planning adapter with 1 TiB bindings records a grid of at most 2^32 invocations', () => {
    const gpu = planningGpu(HUGE);
    const dry = new DryAllocator(gpu);
    const plan = new Plan(gpu, dry);
    const n = 4294958080; // 479348 rows of 8960: the most whole rows of an f16 FFN activation a binding takes
    const src = dry.tensor([479348, 8960], 'f16', 'src');
    const dst = dry.tensor([479348, 8960], 'f16', 'dst');
    stridedCopy(plan, { src, dst, extent: [n], srcStrides: [1], dstStrides: [1] });
    const d = plan.dispatches[0]!;
    expect(d.overflow).toBeUndefined();
    const [x, y] = d.workgroups;
    expect(x * y).toBeGreaterThanOrEqual(n / 256);
    expect(x * y * 256).toBeLessThanOrEqual(2 ** 32);
  });
});

describe('the VAE decode plans its bands and attention blocks within 2^32 − 1 elements', () => {
  const wan21 = parseVaeConfig({ _class_name: 'AutoencoderKLWan', base_dim: 96, z_dim: 16, dim_mult: [1, 2, 4, 4], num_res_blocks: 2, temperal_downsample: [false, true, true], latents_mean: Array(16).fill(0), latents_std: Array(16).fill(1) });

  it('attentionBlockRows: the f32 probabilities [rows, L] stay within 2^32 − 1 elements on a 1 TiB binding', () => {
    for (const L of [65537, 100_000, 1_048_576]) {
      const rows = attentionBlockRows(L, 2 ** 40);
      expect(rows * L, `L ${L}`).toBeLessThanOrEqual(U32_MAX);
      expect((rows + 1) * L, `L ${L}`).toBeGreaterThan(U32_MAX); // as many as fit
    }
    // within the bytes as before where those are the tighter limit
    expect(attentionBlockRows(100_000, 128 * 2 ** 20)).toBe(335);
  });

  it('an 8192×8192 frame ([1,16,1,1024,1024]) in f16 on 1 TiB bindings: bands of at most 2^32 − 1 elements', () => {
    for (const dtype of ['f16', 'f32'] as const) {
      const p = planDecode(wan21, [1, 16, 1, 1024, 1024], dtype, 2 ** 40);
      // one band would be [8194,8192,96] at the top level, 6.4e9 elements
      expect(p.bands, dtype).toBeGreaterThan(1);
      expect(p.largestBinding / bytesPer(dtype), `${dtype}: ${p.largestName}`).toBeLessThanOrEqual(U32_MAX);
      expect(p.maxBinding).toBe(2 ** 40);
    }
    // where the bytes are the tighter limit nothing changed: 4 GiB bindings in f16 also take 2 bands
    expect(planDecode(wan21, [1, 16, 1, 1024, 1024], 'f16', 4 * GiB).largestBinding).toBeLessThanOrEqual(4 * GiB);
  });

  it('a frame too wide for 2^32 − 1 elements in one latent row band is refused naming that limit', () => {
    const e = thrown(() => planDecode(wan21, [1, 16, 1, 1, 600_000], 'f16', 2 ** 40), LimitError);
    expect(e.message).toMatch(/^decoding latents \[1,16,1,1,600000\]: even one latent row per band, decoder\.\S+ band \[10,4800000,96\] needs 8\.58 GiB, the binding limit is 8\.00 GiB \(2\^32 − 1 f16 elements, the kernels' u32 index\): use a narrower frame$/);
    // the bytes' limit is named as before where it is the smaller
    expect(thrown(() => planDecode(wan21, [1, 16, 1, 1, 600_000], 'f16', 4 * GiB), LimitError).message).toMatch(/the binding limit is 4\.00 GiB: use a narrower frame$/);
  });
});
