// Mutation round 4 (session 17) on the FFN chunking cap (src/model/ffn.ts ffnChunkRows, FFN_HIDDEN_MAX_BYTES,
// 7469353): the cap is 256 MiB (Wan-1.3B 480p × 81 frames on 4 GiB bindings: 3 chunks of 10,920 rows per item),
// a hidden activation of exactly the cap stays whole (one chunk over the batch), and no chunk passes the cap
// by a rounded-up row. Each case failed under a mutant that survived liveness.test.ts.
import { describe, expect, it } from 'vitest';
import { FFN_HIDDEN_MAX_BYTES, ffnChunkRows } from '../../src/model/ffn.js';

const FOUR_GIB = 2 ** 32 - 4; // an NVIDIA GPU under Dawn

describe('ffnChunkRows on 4 GiB bindings', () => {
  const wan = { dim: 1536, ffnDim: 8960, bytes: 2, maxBinding: FOUR_GIB };

  it('FFN_HIDDEN_MAX_BYTES is 256 MiB: Wan-1.3B 480p × 81 frames (32,760 tokens, CFG batch 2) in 3 chunks of 10,920 rows per item', () => {
    expect(FFN_HIDDEN_MAX_BYTES).toBe(256 * 2 ** 20);
    // 256 MiB / (8960 × 2 B) = 14,979 rows at most: 3 equal chunks (at 512 MiB it would be 2 of 16,380)
    expect(ffnChunkRows({ ...wan, batch: 2, tokens: 32760 })).toBe(10920);
  });

  it('a hidden activation of exactly FFN_HIDDEN_MAX_BYTES stays one chunk over the whole batch; one token more is chunked per item', () => {
    const at = { dim: 1536, ffnDim: 8192, bytes: 2, maxBinding: FOUR_GIB, batch: 2 };
    expect(2 * 8192 * 8192 * 2).toBe(FFN_HIDDEN_MAX_BYTES);
    expect(ffnChunkRows({ ...at, tokens: 8192 })).toBe(2 * 8192);
    expect(ffnChunkRows({ ...at, tokens: 8193 })).toBeLessThanOrEqual(8193);
  });

  it('no chunk passes the cap, also where the cap is not a whole number of rows', () => {
    // 256 MiB / 17,920 B = 14,979.66 rows: 14,980 rows (one item just past the cap) must be 2 chunks, not 1
    expect(ffnChunkRows({ ...wan, batch: 1, tokens: 14980 })).toBe(7490);
    for (const tokens of [14979, 14980, 14981, 29959, 29960, 44938, 44939]) {
      for (const batch of [1, 2]) {
        const rows = ffnChunkRows({ ...wan, batch, tokens });
        expect(rows * wan.ffnDim * wan.bytes, `tokens ${tokens}, batch ${batch}`).toBeLessThanOrEqual(FFN_HIDDEN_MAX_BYTES);
      }
    }
  });
});
