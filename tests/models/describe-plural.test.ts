// A one-layer model is "1 layer" in the lines that describe it (generate/forward's `wrote …`, the
// weights budget refusal), not "1 layers" (audit 13 K defect 5).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRandomModel } from '../../src/model/presets.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const WAN = JSON.parse(readFileSync(join(FIXTURES, 'wan_small', 'model', 'config.json'), 'utf8')) as Record<string, unknown>;

describe.skipIf(!hasGpu)('model.describe() counts layers in words', () => {
  for (const [n, words] of [[1, '1 layer,'], [2, '2 layers,']] as const) {
    it(`num_layers ${n}: "${words}"`, async () => {
      const m = await loadRandomModel({ ...WAN, num_layers: n }, { gpu: gpu!, seed: 1 });
      try {
        expect(m.describe()).toMatch(new RegExp(`^wan ${words} dim \\d+ \\(`));
      } finally {
        m.destroy();
      }
    });
  }
  it('the weights budget refusal of a one-layer model says "1 layer"', async () => {
    await expect(loadRandomModel({ ...WAN, num_layers: 1 }, { gpu: gpu!, seed: 1, maxMemory: 1024 })).rejects.toThrow(/ in f32 \(1 layer, dim \d+\), above the budget of 1\.0 KiB/);
  });
});
