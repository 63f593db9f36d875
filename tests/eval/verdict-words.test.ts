// verdictWords: the judge's verdict in words, as the demo and the profiler page print it. It said "reads — —
// (cover 0.0020..0.0996 outside 0.003..0.4)" when no shape was found; now what the judge saw, against its rule,
// with the rule's numbers kept.
import { describe, expect, it } from 'vitest';
import { judgeVideo, verdictWords } from '../../src/eval/shapes-judge.js';

/** A clip [1, F, 16, 16, 3] of a `size`×`size` square of colour `rgb` whose left edge moves from x0 by `dx` pixels a frame. */
function clip(F: number, size: number, rgb: [number, number, number], x0: number, dx: number) {
  const H = 16;
  const data = new Float32Array(F * H * H * 3);
  for (let f = 0; f < F; f++) {
    for (let y = 4; y < 4 + size; y++) for (let x = x0 + f * dx; x < x0 + f * dx + size; x++) data.set(rgb, ((f * H + y) * H + x) * 3);
  }
  return { data, shape: [1, F, H, H, 3] };
}

describe('verdictWords', () => {
  it('a clip the judge reads: colour and direction, and whether that is what was asked', () => {
    const v = judgeVideo(clip(5, 3, [1, 0, 0], 1, 2), [['red', 'right']])[0]!;
    expect(verdictWords(v)).toBe('reads red right — matches the prompt');
    const w = judgeVideo(clip(5, 3, [1, 0, 0], 1, 2), [['green', 'up']])[0]!;
    expect(verdictWords(w)).toBe('reads red right — does not match the prompt');
  });

  it('no shape: the bright area it saw, in % of a frame, against the 0.3–40 % it reads, then the rule\'s numbers', () => {
    // one frame dark (0 %), the others a 3×3 square (9/256 = 3.5 %)
    const c = clip(4, 3, [0, 1, 0], 1, 2);
    c.data.fill(0, 0, 16 * 16 * 3);
    const v = judgeVideo(c, [['green', 'right']])[0]!;
    expect(v.reason).toBe('cover 0.0000..0.0352 outside 0.003..0.4');
    expect(verdictWords(v)).toBe("reads no shape: the clip's bright area (a channel above 0.35) covers 0–3.5 % of a frame, the judge reads a shape covering 0.3–40 % of every frame (cover 0.0000..0.0352 outside 0.003..0.4) — does not match the prompt");
    expect(verdictWords(v)).not.toContain('—  —');
  });

  it('a shape that hardly moves: its colour, no direction, how far it moved against the 0.2 the judge needs', () => {
    const v = judgeVideo(clip(4, 3, [0, 0, 1], 1, 0), [['blue', 'right']])[0]!;
    expect(v.reason).toBe('displacement 0.000 of the frame < 0.2');
    expect(verdictWords(v)).toBe('reads blue, no direction: the shape moves 0.00 of the frame from the first frame to the last, the judge reads a direction from 0.2 on (displacement 0.000 of the frame < 0.2) — does not match the prompt');
  });
});
