// loadRandomModel makes its weights on the GPU (kernels/fill_random.wgsl via recordRandomWeights):
// weight i of the model's key order is stream i of the seed, with initScale's standard deviation
// and mean. Checked on wan-tiny (its fused q|k|v parts included): every weight equals the host
// reference randomValues, the same seed gives the same bits, another seed other values, the
// documented statistics hold, and a seed that is not an integer is refused before any GPU work.
import { describe, expect, it } from 'vitest';
import { dtypes, gpu, hasGpu } from '../helpers/gpu.js';
import { initScale, loadRandomModel, PRESETS } from '../../src/model/presets.js';
import { expectedKeys } from '../../src/model/weights.js';
import { parseConfig } from '../../src/model/config.js';
import { InputError } from '../../src/model/model.js';
import { randomValues } from '../../src/ops/fill-random.js';
import { readTensor, type DType } from '../../src/gpu/tensor.js';
import { roundF16 } from '../../src/gpu/half.js';
import type { DiffusionModel } from '../../src/model/model.js';

const config = PRESETS['wan-tiny']!.config;
const want = expectedKeys(parseConfig(config));

async function weightsOf(model: DiffusionModel): Promise<Map<string, Float32Array>> {
  const m = new Map<string, Float32Array>();
  for (const key of want.keys()) m.set(key, await readTensor(gpu!, model.weights.get(key)));
  return m;
}

describe.skipIf(!hasGpu)('loadRandomModel: seeded random weights made on the GPU', () => {
  for (const dtype of dtypes as DType[]) {
    it(`${dtype}: every weight (fused q|k|v parts included) is randomValues of its stream, with initScale's statistics`, async () => {
      const model = await loadRandomModel(config, { gpu: gpu!, seed: 4, dtype });
      try {
        const got = await weightsOf(model);
        expect(model.weights.fused.size).toBeGreaterThan(0); // the q|k|v parts are written through the fused buffer
        let stream = 0;
        for (const [key, shape] of want) {
          const { scale, offset } = initScale(key, shape);
          const ref = randomValues(got.get(key)!.length, { seed: 4, stream: stream++, scale, offset });
          const g = got.get(key)!;
          for (let j = 0; j < g.length; j++) {
            const r = dtype === 'f16' ? roundF16(ref[j]!) : ref[j]!;
            const allowed = dtype === 'f16' ? Math.abs(r) * 2 ** -10 : offset ? Math.abs(r) * 2 ** -23 : 0;
            if (Math.abs(g[j]! - r) > allowed) expect.fail(`${key}[${j}]: ${g[j]} on the GPU, ${r} on the host`);
          }
        }
        // the statistics initScale documents: a 96-wide matrix has σ = 1/√96, the q RMSNorm weight mean 1, σ 0.1
        const ffn = got.get('blocks.0.ffn.net.0.proj.weight')!; // [256, 96]
        const mean = ffn.reduce((a, v) => a + v, 0) / ffn.length;
        const std = Math.sqrt(ffn.reduce((a, v) => a + (v - mean) ** 2, 0) / ffn.length);
        expect(Math.abs(mean)).toBeLessThan((5 / Math.sqrt(96)) / Math.sqrt(ffn.length));
        expect(Math.abs(std * Math.sqrt(96) - 1)).toBeLessThan(0.02);
        const nq = got.get('blocks.0.attn1.norm_q.weight')!;
        expect(Math.abs(nq.reduce((a, v) => a + v, 0) / nq.length - 1)).toBeLessThan(5 * 0.1 / Math.sqrt(nq.length));
        for (const v of nq) expect(Math.abs(v - 1)).toBeLessThanOrEqual(0.1 * Math.sqrt(3) * 1.001);
      } finally {
        model.destroy();
      }
    });
  }

  it('the same seed gives the same bits, another seed other values', async () => {
    const [a, b, c] = await Promise.all([3, 3, 4].map((seed) => loadRandomModel(config, { gpu: gpu!, seed })));
    try {
      const [wa, wb, wc] = await Promise.all([a!, b!, c!].map(weightsOf));
      for (const key of want.keys()) {
        expect(Buffer.from(wa!.get(key)!.buffer).equals(Buffer.from(wb!.get(key)!.buffer)), key).toBe(true);
        expect(Array.from(wa!.get(key)!)).not.toEqual(Array.from(wc!.get(key)!));
      }
    } finally {
      for (const m of [a, b, c]) m!.destroy();
    }
  });
});

describe('loadRandomModel options', () => {
  it('a seed that is not a safe integer: InputError naming it, before any GPU work', async () => {
    for (const [seed, line] of [
      [1.5, 'seed: an integer (safe-integer range), got 1.5'],
      ['1', 'seed: an integer (safe-integer range), got "1"'],
      [2 ** 60, `seed: an integer (safe-integer range), got ${2 ** 60}`],
    ] as const) {
      const e = await loadRandomModel(config, { seed: seed as number }).catch((x) => x);
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toBe(line);
    }
  });
});
