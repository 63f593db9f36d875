// The `tessera bench conv` workload (src/profile/workloads.ts convWorkload): its pre-timing check
// compares sampled output rows, each from its own row window, with convRef. Here that check is
// held against the full float64 reference, and shown to fail on a wrong element in a sampled row.
import { describe, expect, it } from 'vitest';
import { dtypes, gpu, hasGpu } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { readTensor } from '../../src/gpu/tensor.js';
import { convWorkload } from '../../src/profile/workloads.js';
import { convRef } from '../../src/ref/conv.js';

describe.skipIf(!hasGpu)('convWorkload (bench conv)', () => {
  // [height, width, in, out, frames, ks]: a causal 3×3×3 large enough that the check samples rows
  // (8 of 17: first, last and seeded ones), and the other kernel forms at odd sizes (all rows).
  const CASES: [number, number, number, number, 1 | 3, 1 | 3][] = [
    [17, 11, 96, 30, 3, 3],
    [5, 7, 5, 6, 1, 3],
    [3, 9, 8, 7, 3, 1],
  ];
  for (const dtype of dtypes) {
    for (const [height, width, inChannels, outChannels, frames, ks] of CASES) {
      it(`${dtype} ${height}×${width} ${inChannels}→${outChannels} k${frames}×${ks}×${ks}: the check passes, agrees with the full reference and catches a wrong element`, async () => {
        const w = convWorkload(gpu!, { height, width, inChannels, outChannels, frames, ks, dtype });
        try {
          const check = await w.check();
          expect(check.ok, check.worst).toBe(true);
          expect(check.totalRows).toBe(height);
          if (height === 17) expect(check.rows).toBeLessThan(height);
          else expect(check.rows).toBe(height);
          const got = await readTensor(gpu!, w.out); // [height + 2, width, out] band
          const xs = Array.from({ length: frames }, (_, t) => w.data[`x${t}`]!);
          const ref = convRef({ x: xs, inH: height, inW: width, cin: inChannels, cout: outChannels, w: w.data.weight!, bias: w.data.bias!, ks });
          const cols = width * outChannels;
          expectClose(got.subarray(cols, (height + 1) * cols), ref, [height, width, outChannels], TOL.conv![dtype], w.label);
          // one element off by 0.1 in the first and in the last row (both always checked): refused
          for (const r of [0, height - 1]) {
            const bad = got.slice();
            bad[(r + 1) * cols + cols - 1]! += 0.1;
            const c = w.checkOutput(bad);
            expect(c.ok).toBe(false);
            expect(c.worst).toMatch(new RegExp(`^row ${r}, col ${cols - 1}:`));
          }
        } finally {
          w.destroy();
        }
      });
    }
  }
  it('refuses a tile knob conv does not have', () => {
    expect(() => convWorkload(gpu!, { height: 2, width: 2, inChannels: 4, outChannels: 4, frames: 1, ks: 1, dtype: 'f32', tile: { TM: 4 } })).toThrow('convWorkload: tile: unknown knob TM (known: WG, PX)');
  });
});
