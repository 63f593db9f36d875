// The TypeScript judge of issue 12 (src/eval/shapes-judge.ts): each rule on synthetic clips (each can
// fail), and agreement with training/judge.py on clips Python judged (tests/fixtures/shapes_judge/make.py).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgeClip, judgeVideo, parseShapesPrompt, shapesPrompt, shapesTriples } from '../../src/eval/shapes-judge.js';
import { readInputs } from '../../src/io/inputs.js';

const F = 9;
const H = 32;
const W = 32;

/** A clip [F, H, W, 3] with an axis-aligned square of side `size` and colour `rgb`, its top-left corner moving linearly from `from` to `to` (pixels, x then y). */
function square(rgb: [number, number, number], size: number, from: [number, number], to: [number, number], opts: { frames?: number; blank?: number[] } = {}): Float32Array {
  const frames = opts.frames ?? F;
  const clip = new Float32Array(frames * H * W * 3);
  for (let f = 0; f < frames; f++) {
    if (opts.blank?.includes(f)) continue;
    const a = frames > 1 ? f / (frames - 1) : 0;
    const x0 = Math.round(from[0] + (to[0] - from[0]) * a);
    const y0 = Math.round(from[1] + (to[1] - from[1]) * a);
    for (let y = y0; y < y0 + size; y++) {
      for (let x = x0; x < x0 + size; x++) {
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        clip.set(rgb, ((f * H + y) * W + x) * 3);
      }
    }
  }
  return clip;
}
const shape = [F, H, W, 3];

describe('shapes judge: each rule', () => {
  it('reads a red square moving right', () => {
    const v = judgeClip(square([1, 0, 0], 8, [2, 12], [20, 12]), shape);
    expect(v).toMatchObject({ ok: true, colour: 'red', direction: 'right', reason: '' });
    expect(v.displacement![0]).toBeCloseTo(18 / 32, 12);
    expect(v.displacement![1]).toBe(0);
    expect(v.cover_min).toBeCloseTo(64 / 1024, 12);
  });

  it('reads each direction by the sign of the dominant axis (up = toward row 0)', () => {
    expect(judgeClip(square([0, 1, 0], 8, [20, 12], [2, 12]), shape).direction).toBe('left');
    expect(judgeClip(square([0, 1, 0], 8, [12, 20], [12, 2]), shape).direction).toBe('up');
    expect(judgeClip(square([0, 1, 0], 8, [12, 2], [12, 20]), shape).direction).toBe('down');
    // diagonal: 10 px right, 16 px down → down dominates
    expect(judgeClip(square([0, 1, 0], 6, [4, 4], [14, 20]), shape).direction).toBe('down');
  });

  it('fails a move shorter than 0.2 of the frame (6/32 = 0.1875), passes one of 7/32', () => {
    const short = judgeClip(square([0, 0, 1], 8, [10, 12], [16, 12]), shape);
    expect(short).toMatchObject({ ok: false, colour: 'blue', direction: null });
    expect(short.reason).toMatch(/^displacement 0\.188 of the frame < 0\.2$/);
    expect(judgeClip(square([0, 0, 1], 8, [10, 12], [17, 12]), shape)).toMatchObject({ ok: true, direction: 'right' });
  });

  it('fails a foreground below 0.3 % of a frame (a 1×1 square: 0.1 %) and above 40 % (21×21: 43 %)', () => {
    const tiny = judgeClip(square([1, 1, 1], 1, [2, 12], [25, 12]), shape);
    expect(tiny).toMatchObject({ ok: false, colour: null, direction: null });
    expect(tiny.reason).toMatch(/^cover 0\.0010\.\.0\.0010 outside 0\.003\.\.0\.4$/);
    // 2×2 = 0.39 % passes the lower bound
    expect(judgeClip(square([1, 1, 1], 2, [2, 12], [25, 12]), shape).ok).toBe(true);
    const huge = judgeClip(square([1, 1, 1], 21, [0, 0], [11, 0]), shape);
    expect(huge.ok).toBe(false);
    expect(huge.reason).toMatch(/^cover 0\.4307/);
  });

  it('applies the cover rule to EVERY frame: one blank frame in the middle fails the clip', () => {
    const v = judgeClip(square([1, 0, 1], 8, [2, 12], [20, 12], { blank: [4] }), shape);
    expect(v).toMatchObject({ ok: false, cover_min: 0 });
  });

  it('counts a pixel as foreground only when its max channel is ABOVE 0.35', () => {
    const at = judgeClip(square([0.35, 0, 0], 8, [2, 12], [20, 12]), shape);
    expect(at).toMatchObject({ ok: false, cover_max: 0 });
    const above = judgeClip(square([0.3501, 0, 0], 8, [2, 12], [20, 12]), shape);
    expect(above).toMatchObject({ ok: true, colour: 'red' });
  });

  it('takes the palette colour nearest to the per-channel median, ties to the first in palette order', () => {
    // orange (1, 0.6, 0): nearer yellow (0.16) than red (0.36)
    expect(judgeClip(square([1, 0.6, 0], 8, [2, 12], [20, 12]), shape).colour).toBe('yellow');
    expect(judgeClip(square([1, 0.4, 0], 8, [2, 12], [20, 12]), shape).colour).toBe('red');
    // (0, 0.36, 0.36) is equally far from green and blue: green comes first
    expect(judgeClip(square([0, 0.36, 0.36], 8, [2, 12], [20, 12]), shape).colour).toBe('green');
    // the median, not the mean: 5 of 8 frames white, 3 red → white
    const mixed = square([1, 1, 1], 8, [2, 12], [20, 12]);
    for (let f = 0; f < 3; f++) for (let i = f * H * W * 3 + 1; i < (f + 1) * H * W * 3; i += 3) if (mixed[i - 1]! === 1) [mixed[i], mixed[i + 1]] = [0, 0];
    expect(judgeClip(mixed, shape).colour).toBe('white');
  });

  it('judgeVideo: an item passes only when colour AND direction match its prompt', () => {
    const a = square([1, 0, 0], 8, [2, 12], [20, 12]);
    const b = square([0, 1, 1], 8, [12, 20], [12, 2]);
    const video = { data: Float32Array.from([...a, ...b]), shape: [2, F, H, W, 3] };
    const r = judgeVideo(video, [['red', 'right'], ['cyan', 'down']]);
    expect(r.map((x) => x.pass)).toEqual([true, false]);
    expect(r[1]).toMatchObject({ ok: true, colour: 'cyan', direction: 'up' });
    expect(judgeVideo(video, [['red', 'right']]).map((x) => x.pass)).toEqual([true, false]);
    expect(() => judgeVideo({ data: a, shape: [F, H, W, 3] }, [['red', 'right']])).toThrow(/expected video \[B, F, H, W, 3\]/);
    expect(() => judgeVideo(video, [['red', 'right'], ['red', 'right'], ['red', 'right']])).toThrow(/3 expected/);
    expect(() => judgeClip(a, [F, H, W, 4])).toThrow(RangeError);
  });

  it('the prompt set of training/data.py: 84 triples, 72 seen, 12 held out', () => {
    const { seen, heldOut } = shapesTriples();
    expect(seen.length).toBe(72);
    expect(heldOut.length).toBe(12);
    expect(heldOut.map(([c, , d]) => `${c} ${d}`).sort()).toEqual([...new Set(heldOut.map(([c, , d]) => `${c} ${d}`))].flatMap((k) => [k, k, k]).sort());
    expect(seen[0]).toEqual(['red', 'circle', 'left']);
    expect(shapesPrompt(...seen[0]!)).toBe('a red circle moving left');
    expect(parseShapesPrompt('a Red circle moving left')).toEqual({ colour: 'red', shape: 'circle', direction: 'left' });
    expect(parseShapesPrompt('a purple circle moving left')).toBeNull();
  });
});

describe('shapes judge agrees with training/judge.py', () => {
  it('on every clip of tests/fixtures/shapes_judge (judged by Python)', async () => {
    const dir = new URL('../fixtures/shapes_judge/', import.meta.url);
    const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as { name: string; colour: string | null; direction: string | null; ok: boolean; reason: string; cover_min: number; cover_max: number; displacement: [number, number] | null }[];
    const video = (await readInputs(new URL('clips.safetensors', dir).pathname)).get('video')!;
    expect(video.shape).toEqual([expected.length, F, H, W, 3]);
    const per = F * H * W * 3;
    // the fixture covers passes and each failing rule
    expect(new Set(expected.map((e) => e.reason.split(' ')[0]))).toEqual(new Set(['', 'cover', 'displacement']));
    expected.forEach((e, b) => {
      const v = judgeClip(video.f32!, [F, H, W, 3], b * per);
      expect({ name: e.name, colour: v.colour, direction: v.direction, ok: v.ok, reason: v.reason }).toEqual({ name: e.name, colour: e.colour, direction: e.direction, ok: e.ok, reason: e.reason });
      // the same float64 arithmetic: equal to the last bit
      expect(v.cover_min).toBe(e.cover_min);
      expect(v.cover_max).toBe(e.cover_max);
      expect(v.displacement).toEqual(e.displacement);
    });
  });
});
