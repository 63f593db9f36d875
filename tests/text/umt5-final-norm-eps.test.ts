// The encoder's final T5LayerNorm takes config.json's layer_norm_epsilon, as every block's norms do
// (transformers: UMT5Stack.final_layer_norm = UMT5LayerNorm(d_model, eps=config.layer_norm_epsilon)).
// With the fixtures' real eps (1e-6) the final rows have a mean square of O(1), so any eps up to
// ~1e-4 gives the same numbers within the goldens' bound: a final norm with its own hard-coded eps
// (e.g. torch's 1e-5) passed every UMT5 test. Here config eps is raised to the order of the final
// rows' mean square, where the final norm's eps moves the output by O(1): the GPU encoder must
// still match the float64 reference (src/ref/umt5.ts, pinned to transformers by umt5-ref.test)
// run with the same config.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openModelFolder } from '../../src/io/model-folder.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { umt5EncoderRef } from '../../src/ref/umt5.js';
import { parseUmt5Config } from '../../src/text/config.js';
import { Umt5Encoder } from '../../src/text/umt5.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { relError } from '../helpers/compare.js';
import { GOLDEN_F32 } from '../tolerances.js';

const DIR = join(FIXTURES, 'umt5_small', 'pipeline', 'text_encoder');
const open = () => openModelFolder(nodeFolder(DIR), { library: 'transformers' });

describe.skipIf(!hasGpu)('UMT5 final layer norm eps', () => {
  it('the final norm uses config.layer_norm_epsilon (raised to the rows\' mean square: O(1) effect), resident and streamed', async () => {
    const probe = await open();
    const base = parseUmt5Config(probe.config);
    const w = new Map<string, Float32Array>();
    for (const k of probe.tensors.keys()) w.set(k, await probe.readF32(k));
    await probe.close();
    const ids = Int32Array.from([5, 17, 42, 63, 8, 1, 0, 0, 9, 31, 1, 0, 0, 0, 0, 0]);
    const lengths = [6, 3], L = 8;
    const eps = 0.5;
    const cfg = { ...base, eps };
    const want = umt5EncoderRef(cfg, (k) => w.get(k)!, ids, lengths);
    // Sensitive by construction: per row, y = x·w / √(ms + eps) with ms = mean(x²), so
    // r = mean((y/w)²) = ms / (ms + eps) gives ms, and the same rows through a final norm at eps
    // 1e-5 are y·√((ms + eps) / (ms + 1e-5)): O(1) away from `want`.
    const D = cfg.dModel, fw = w.get('encoder.final_layer_norm.weight')!;
    const at1e5 = want.map((v, j) => {
      const r0 = Math.floor(j / D) * D;
      let r = 0;
      for (let d = 0; d < D; d++) r += (want[r0 + d]! / fw[d]!) ** 2 / D;
      const ms = r === 0 ? 0 : (eps * r) / (1 - r);
      return r === 0 ? 0 : v * Math.sqrt((ms + eps) / (ms + 1e-5));
    });
    expect(relError(at1e5, want)).toBeGreaterThan(0.1);
    for (const stream of [false, true]) {
      const enc = await Umt5Encoder.load(await open(), cfg, gpu!, { stream }, [2, L]);
      try {
        expect(enc.mode).toBe(stream ? 'stream' : 'resident');
        const got = await enc.encode(ids, lengths, L);
        const e = relError(got, want);
        console.log(`umt5_small config eps ${eps} (${enc.mode}): rel err ${e.toExponential(3)}`);
        expect(e).toBeLessThan(GOLDEN_F32);
      } finally {
        enc.dispose();
      }
    }
  });
});
