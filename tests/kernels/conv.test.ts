import { describe, it } from 'vitest';
import { dtypes, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { conv } from '../../src/ops/conv.js';
import { convRef } from '../../src/ref/conv.js';
import { convLayout } from '../../src/vae/weights.js';
import { randn } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import type { DType } from '../../src/gpu/tensor.js';

// [inH, inW, cin, cout, frames, ks, up, residual]: odd sizes, widths not multiples of PX (4),
// cout not a multiple of 4, 1 channel, causal 3-frame kernels (3×3×3 and the 3×1×1 time_conv),
// 1×1 shortcuts, upsampled inputs, real channel counts (96, 128) at few pixels. The op has no
// batch dimension: the decoders loop over batch items and frames (batch 2 is in tests/vae).
const SHAPES: [number, number, number, number, number, number, boolean, boolean][] = [
  [1, 1, 1, 1, 1, 1, false, false], [3, 5, 4, 3, 1, 3, false, false], [4, 4, 8, 8, 3, 3, false, true], [2, 7, 5, 6, 1, 3, true, false],
  [5, 3, 3, 13, 3, 3, false, false], [1, 9, 16, 16, 1, 1, false, true], [6, 2, 7, 4, 3, 1, false, false], [3, 3, 12, 24, 1, 3, true, true],
  [2, 2, 16, 3, 3, 3, false, false], [7, 5, 2, 9, 1, 3, false, true], [4, 6, 32, 16, 1, 1, false, false], [3, 4, 96, 8, 3, 3, false, false],
  [2, 3, 8, 96, 1, 3, true, false], [1, 8, 128, 5, 1, 3, false, false], [5, 5, 6, 6, 3, 3, false, true], [2, 9, 4, 12, 1, 3, true, false],
  [8, 1, 3, 7, 1, 3, false, false], [3, 11, 9, 1, 3, 3, false, false], [1, 2, 20, 20, 3, 1, false, true], [4, 3, 10, 11, 1, 3, true, true],
  [2, 5, 24, 17, 3, 3, false, false],
];

const round = (a: Float32Array, d: DType) => (d === 'f16' ? a.map(roundF16) : a);

describe.skipIf(!hasGpu)('conv kernel vs float64 reference', () => {
  for (const dtype of dtypes) {
    SHAPES.forEach(([inH, inW, cin, cout, frames, ks, up, res], i) => {
      const f = up ? 2 : 1;
      const [H, W] = [inH * f, inW * f];
      it(`${dtype} ${inH}×${inW}×${cin} → ${cout} k${frames}×${ks}×${ks}${up ? ' up2' : ''}${res ? ' +res' : ''}`, async () => {
        const xs = Array.from({ length: frames }, (_, t) => round(randn(inH * inW * cin, 10 * i + t, 1), dtype));
        const w = round(randn(cout * cin * frames * ks * ks, 500 + i, 1 / Math.sqrt(cin * frames * ks * ks)), dtype);
        const bias = round(randn(cout, 900 + i, 0.3), dtype);
        const resid = round(randn(H * W * cout, 1300 + i, 1), dtype);
        // halo rows around each frame (zeros: frame edges); ks = 1 reads from offset 0 without them
        const halo = ks === 3;
        const inRows = inH + (halo ? 2 : 0);
        const pad = (a: Float32Array, rows: number, width: number, c: number) => {
          const o = new Float32Array((rows + 2) * width * c);
          o.set(a, width * c);
          return o;
        };
        const got = await runOnce((plan, alloc) => {
          const x = xs.map((a, t) => alloc.upload(halo ? pad(a, inH, inW, cin) : a, [inRows, inW, cin], dtype, `x${t}`));
          const out = alloc.tensor([H + 2, W, cout], dtype, 'out');
          const residual = res ? alloc.upload(pad(resid, H, W, cout), [H + 2, W, cout], dtype, 'res') : undefined;
          return conv(plan, {
            x,
            w: alloc.upload(convLayout(w, cout, cin, frames * ks * ks), [frames * ks * ks, cin, Math.ceil(cout / 4) * 4], dtype, 'w'),
            bias: alloc.upload(bias, [cout], dtype, 'b'),
            out,
            residual,
            rows: H,
            width: W,
            cin,
            cout,
            ks,
            up,
            inOffset: halo ? inW * cin : 0,
          });
        });
        const ref = convRef({ x: xs, inH, inW, cin, cout, w, bias, ks, up, residual: res ? resid : undefined });
        expectClose(got.subarray(W * cout, (H + 1) * W * cout), ref, [H, W, cout], TOL.conv![dtype], `conv ${i}`);
        // halo rows of the output are never written
        expectClose(got.subarray(0, W * cout), new Float64Array(W * cout), [W, cout], { atol: 0, rtol: 0 }, 'halo row −1');
      });
    });
  }
});
