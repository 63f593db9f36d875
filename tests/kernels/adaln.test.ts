import { describe, it } from 'vitest';
import { dtypes, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { adaln } from '../../src/ops/adaln.js';
import { adalnRef } from '../../src/ref/adaln.js';
import { randn } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';

// [batch, J, D]: Wan blocks (6), heads (2), odd widths, sizes not multiples of WG=256.
const SHAPES: [number, number, number][] = [
  [1, 6, 48], [2, 6, 64], [1, 2, 48], [3, 2, 7], [1, 1, 1], [2, 6, 1536], [1, 6, 1152], [4, 2, 384],
  [2, 6, 33], [5, 1, 257], [1, 6, 384], [2, 2, 1536], [3, 6, 5], [1, 2, 255], [2, 1, 256], [6, 3, 17],
  [1, 6, 72], [2, 2, 1152], [1, 4, 129], [3, 6, 96],
];

describe.skipIf(!hasGpu)('adaln kernel vs float64 reference', () => {
  for (const dtype of dtypes) {
    SHAPES.forEach(([B, J, D], i) => {
      const perItem = i % 2 === 1;
      it(`${dtype} B=${B} J=${J} D=${D}${perItem ? ' per-item' : ''}`, async () => {
        const r = (a: Float32Array) => (dtype === 'f16' ? a.map(roundF16) : a);
        const table = r(randn(J * D, 10 + i));
        const emb = r(randn(B * (perItem ? D : J * D), 40 + i));
        const got = await runOnce((plan, alloc) =>
          adaln(plan, {
            table: alloc.upload(table, [J, D], dtype, 'table'),
            emb: alloc.upload(emb, [B, perItem ? D : J * D], dtype, 'emb'),
            out: alloc.tensor([B, J * D], dtype, 'mod'),
            batch: B,
            perItem,
          }),
        );
        expectClose(got, adalnRef(table, emb, B, J, D, perItem), [B, J, D], TOL.elementwise![dtype], `adaln ${dtype}`);
      });
    });
  }
});
