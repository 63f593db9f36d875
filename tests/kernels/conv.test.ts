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
// 1×1 shortcuts, upsampled inputs, real channel counts (96, 128) at few pixels. Several images in
// one dispatch (the decoders' batch items / frames, `images`) below: each image against its own reference.
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

// [images, inH, inW, cin, cout, frames, ks, up, residual]: the decoder's [N, rows + 2, W, C] bands, each
// image with its halo rows; image n's output must be the reference of image n's inputs alone.
const IMAGE_SHAPES: [number, number, number, number, number, number, number, boolean, boolean][] = [
  [3, 3, 5, 4, 3, 1, 3, false, true], [2, 2, 3, 8, 5, 3, 3, true, false], [4, 1, 7, 3, 6, 1, 1, false, true], [3, 4, 2, 12, 8, 3, 3, false, true],
];

describe.skipIf(!hasGpu)('conv kernel: several images in one dispatch vs float64 reference per image', () => {
  for (const dtype of dtypes) {
    IMAGE_SHAPES.forEach(([N, inH, inW, cin, cout, frames, ks, up, res], i) => {
      const f = up ? 2 : 1;
      const [H, W] = [inH * f, inW * f];
      it(`${dtype} ${N} images ${inH}×${inW}×${cin} → ${cout} k${frames}×${ks}×${ks}${up ? ' up2' : ''}${res ? ' +res' : ''}`, async () => {
        const inImg = (inH + 2) * inW * cin;
        const outImg = (H + 2) * W * cout;
        // xs[t][n]: frame t of image n, all different
        const xs = Array.from({ length: frames }, (_, t) => Array.from({ length: N }, (_, n) => round(randn(inH * inW * cin, 100 * i + 10 * t + n, 1), dtype)));
        const resid = Array.from({ length: N }, (_, n) => round(randn(H * W * cout, 700 + 10 * i + n, 1), dtype));
        const w = round(randn(cout * cin * frames * ks * ks, 50 + i, 1 / Math.sqrt(cin * frames * ks * ks)), dtype);
        const bias = round(randn(cout, 90 + i, 0.3), dtype);
        const stack = (imgs: Float32Array[], rowLen: number, img: number) => {
          const o = new Float32Array(N * img);
          imgs.forEach((a, n) => o.set(a, n * img + rowLen));
          return o;
        };
        const got = await runOnce((plan, alloc) =>
          conv(plan, {
            x: xs.map((imgs, t) => alloc.upload(stack(imgs, inW * cin, inImg), [N, inH + 2, inW, cin], dtype, `x${t}`)),
            w: alloc.upload(convLayout(w, cout, cin, frames * ks * ks), [frames * ks * ks, cin, Math.ceil(cout / 4) * 4], dtype, 'w'),
            bias: alloc.upload(bias, [cout], dtype, 'b'),
            out: alloc.tensor([N, H + 2, W, cout], dtype, 'out'),
            residual: res ? alloc.upload(stack(resid, W * cout, outImg), [N, H + 2, W, cout], dtype, 'res') : undefined,
            rows: H,
            width: W,
            cin,
            cout,
            ks,
            up,
            images: N,
          }),
        );
        for (let n = 0; n < N; n++) {
          const ref = convRef({ x: xs.map((imgs) => imgs[n]!), inH, inW, cin, cout, w, bias, ks, up, residual: res ? resid[n] : undefined });
          expectClose(got.subarray(n * outImg + W * cout, n * outImg + (H + 1) * W * cout), ref, [H, W, cout], TOL.conv![dtype], `conv images ${i}, image ${n}`);
          const zero = new Float64Array(W * cout);
          expectClose(got.subarray(n * outImg, n * outImg + W * cout), zero, [W, cout], { atol: 0, rtol: 0 }, `image ${n} halo row −1`);
          expectClose(got.subarray(n * outImg + (H + 1) * W * cout, (n + 1) * outImg), zero, [W, cout], { atol: 0, rtol: 0 }, `image ${n} halo row H`);
        }
      });
    });
  }
});
