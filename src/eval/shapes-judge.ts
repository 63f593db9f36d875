// The judge of issue 12 (tessera-shapes): reads only `video` and says which colour and direction a clip
// shows. A line-by-line port of training/judge.py (same rules, same order, float64 arithmetic; checked
// against it on clips judged by Python: tests/fixtures/shapes_judge/):
//   - foreground = pixels whose max channel > 0.35
//   - the foreground must cover 0.3 % .. 40 % of EVERY frame
//   - colour = the palette colour nearest (Euclidean RGB) to the per-channel median of the foreground
//     pixels of all frames (numpy's median: the mean of the two middle values for an even count)
//   - direction = dominant axis and sign of the foreground centroid's displacement from the first to the
//     last frame ("up" is toward row 0, "left" toward column 0; |dx| ≥ |dy| picks the x axis); the
//     displacement along it must be ≥ 0.2 of the frame's size along that axis
// Browser-safe: no Node imports.
import type { TensorData } from '../model/model.js';
import { EMBEDDED_VOCABULARY } from '../pipeline/embedded.js';

/** training/data.py's PALETTE, in its order (ties in the nearest-colour search go to the first). */
export const SHAPES_PALETTE: readonly (readonly [string, readonly [number, number, number]])[] = [
  ['red', [1, 0, 0]],
  ['green', [0, 1, 0]],
  ['blue', [0, 0, 1]],
  ['yellow', [1, 1, 0]],
  ['white', [1, 1, 1]],
  ['magenta', [1, 0, 1]],
  ['cyan', [0, 1, 1]],
];
export const SHAPES_COLOURS = SHAPES_PALETTE.map(([n]) => n);
export const SHAPES_SHAPES = EMBEDDED_VOCABULARY.shapes;
export const SHAPES_DIRECTIONS = EMBEDDED_VOCABULARY.directions;
/** (colour, direction) pairs never shown in training, for every shape (training/data.py HELD_OUT). */
export const SHAPES_HELD_OUT: readonly (readonly [string, string])[] = [
  ['green', 'up'],
  ['magenta', 'left'],
  ['cyan', 'down'],
  ['white', 'right'],
];

export const FG_THRESHOLD = 0.35;
export const MIN_DISPLACEMENT = 0.2;
export const MIN_COVER = 0.003;
export const MAX_COVER = 0.4;

export interface Verdict {
  /** Palette colour read, or null when the cover rule failed first. */
  colour: string | null;
  /** Direction read, or null when the cover or displacement rule failed. */
  direction: string | null;
  /** Smallest and largest per-frame foreground fraction. */
  cover_min: number;
  cover_max: number;
  /** Centroid displacement (dx, dy) as fractions of the frame's width and height; null when the cover rule failed. */
  displacement: [number, number] | null;
  /** Every rule held (a colour and a direction were read). */
  ok: boolean;
  /** Why not ok ("" when ok). */
  reason: string;
}

/** A prompt of the training set, "a {colour} {shape} moving {direction}". */
export function shapesPrompt(colour: string, shape: string, direction: string): string {
  return `a ${colour} ${shape} moving ${direction}`;
}

/** Every (colour, shape, direction) in training/data.py's canonical order (itertools.product), split into seen and held-out. */
export function shapesTriples(): { seen: [string, string, string][]; heldOut: [string, string, string][] } {
  const seen: [string, string, string][] = [];
  const heldOut: [string, string, string][] = [];
  for (const c of SHAPES_COLOURS) {
    for (const s of SHAPES_SHAPES) {
      for (const d of SHAPES_DIRECTIONS) (SHAPES_HELD_OUT.some(([hc, hd]) => hc === c && hd === d) ? heldOut : seen).push([c, s, d]);
    }
  }
  return { seen, heldOut };
}

function median(xs: Float64Array): number {
  const s = Float64Array.from(xs).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Judges one clip: `data` holds F·H·W·3 values ([F, H, W, 3], RGB in [0, 1]) at `offset`.
 * @throws RangeError when the shape is not [F, H, W, 3] with F, H, W ≥ 1 or the data is too short.
 */
export function judgeClip(data: Float32Array | Float64Array, shape: readonly number[], offset = 0): Verdict {
  if (shape.length !== 4 || shape[3] !== 3 || shape.slice(0, 3).some((d) => !Number.isInteger(d) || d < 1)) throw new RangeError(`judge: expected a clip [F, H, W, 3], got [${shape.join(', ')}]`);
  const [F, H, W] = shape as [number, number, number, number];
  const n = H * W;
  if (data.length < offset + F * n * 3) throw new RangeError(`judge: ${data.length - offset} values for a clip [${shape.join(', ')}]`);
  const fg = new Uint8Array(F * n);
  const cover = new Float64Array(F);
  let count = 0;
  for (let f = 0; f < F; f++) {
    let c = 0;
    for (let i = 0; i < n; i++) {
      const o = offset + (f * n + i) * 3;
      if (Math.max(data[o]!, data[o + 1]!, data[o + 2]!) > FG_THRESHOLD) {
        fg[f * n + i] = 1;
        c++;
      }
    }
    cover[f] = c / n;
    count += c;
  }
  let cmin = Infinity;
  let cmax = -Infinity;
  for (const c of cover) {
    cmin = Math.min(cmin, c);
    cmax = Math.max(cmax, c);
  }
  const res: Verdict = { colour: null, direction: null, cover_min: cmin, cover_max: cmax, displacement: null, ok: false, reason: '' };
  if (cmin < MIN_COVER || cmax > MAX_COVER) {
    res.reason = `cover ${cmin.toFixed(4)}..${cmax.toFixed(4)} outside ${MIN_COVER}..${MAX_COVER}`;
    return res;
  }
  // per-channel median of every foreground pixel of every frame
  const ch = [new Float64Array(count), new Float64Array(count), new Float64Array(count)];
  let k = 0;
  for (let j = 0; j < F * n; j++) {
    if (!fg[j]) continue;
    const o = offset + j * 3;
    for (let c = 0; c < 3; c++) ch[c]![k] = data[o + c]!;
    k++;
  }
  const med = ch.map(median);
  let best = 0;
  let bestD = Infinity;
  SHAPES_PALETTE.forEach(([, rgb], i) => {
    const d = (rgb[0] - med[0]!) ** 2 + (rgb[1] - med[1]!) ** 2 + (rgb[2] - med[2]!) ** 2;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  res.colour = SHAPES_PALETTE[best]![0];
  const centroid = (f: number): [number, number] => {
    let sx = 0;
    let sy = 0;
    let m = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        if (!fg[f * n + y * W + x]) continue;
        sx += x;
        sy += y;
        m++;
      }
    }
    return [sx / m, sy / m];
  };
  const [x0, y0] = centroid(0);
  const [x1, y1] = centroid(F - 1);
  const dx = (x1 - x0) / W;
  const dy = (y1 - y0) / H;
  res.displacement = [dx, dy];
  let direction: string;
  let mag: number;
  if (Math.abs(dx) >= Math.abs(dy)) [direction, mag] = [dx > 0 ? 'right' : 'left', Math.abs(dx)];
  else [direction, mag] = [dy > 0 ? 'down' : 'up', Math.abs(dy)];
  if (mag < MIN_DISPLACEMENT) {
    res.reason = `displacement ${mag.toFixed(3)} of the frame < ${MIN_DISPLACEMENT}`;
    return res;
  }
  res.direction = direction;
  res.ok = true;
  return res;
}

/**
 * Judges every item of `video` [B, F, H, W, 3] (diffusers' output_type="np" layout) against the colour
 * and direction its prompt asked for: an item passes when the judge reads exactly (colour, direction).
 * `expected`: one [colour, direction] per item, or one for all.
 * @throws RangeError for a video that is not [B, F, H, W, 3] or a wrong number of expectations.
 */
export function judgeVideo(video: TensorData, expected: readonly (readonly [string, string])[]): (Verdict & { pass: boolean })[] {
  const s = video.shape;
  if (s.length !== 5) throw new RangeError(`judge: expected video [B, F, H, W, 3], got [${s.join(', ')}]`);
  const B = s[0]!;
  if (expected.length !== B && expected.length !== 1) throw new RangeError(`judge: ${expected.length} expected (colour, direction) pairs for ${B} clips`);
  const per = s.slice(1).reduce((a, b) => a * b, 1);
  const out: (Verdict & { pass: boolean })[] = [];
  for (let b = 0; b < B; b++) {
    const v = judgeClip(video.data, s.slice(1), b * per);
    const [c, d] = expected.length === 1 ? expected[0]! : expected[b]!;
    out.push({ ...v, pass: v.ok && v.colour === c && v.direction === d });
  }
  return out;
}

/** The (colour, direction) a prompt "a {colour} {shape} moving {direction}" asks for, or null when it is not of that form. */
export function parseShapesPrompt(prompt: string): { colour: string; shape: string; direction: string } | null {
  const m = /^\s*a\s+(\w+)\s+(\w+)\s+moving\s+(\w+)\s*$/i.exec(prompt);
  if (!m) return null;
  const [colour, shape, direction] = [m[1]!.toLowerCase(), m[2]!.toLowerCase(), m[3]!.toLowerCase()];
  if (!SHAPES_COLOURS.includes(colour) || !(SHAPES_SHAPES as readonly string[]).includes(shape) || !(SHAPES_DIRECTIONS as readonly string[]).includes(direction)) return null;
  return { colour, shape, direction };
}

/** A fraction as a percentage of two significant digits, without trailing zeros (0.002 → "0.2", 0.0996 → "10"). */
const percent = (x: number): string => String(+(x * 100).toPrecision(2));

/**
 * A verdict of judgeVideo in words, one line (the demo's and the profiler page's judge line): what the judge read
 * and whether it matches the prompt; when it could read no shape or no direction, what it saw against the rule it
 * applies, then the rule's numbers as `reason` gives them. E.g. "reads no shape: the clip's bright area covers
 * 0.2–10 % of a frame, the judge reads a shape covering 0.3–40 % of every frame (cover 0.0020..0.0996 outside
 * 0.003..0.4) — does not match the prompt".
 */
export function verdictWords(v: Verdict & { pass: boolean }): string {
  const end = v.pass ? 'matches the prompt' : 'does not match the prompt';
  if (v.colour === null) {
    return `reads no shape: the clip's bright area (a channel above ${FG_THRESHOLD}) covers ${percent(v.cover_min)}–${percent(v.cover_max)} % of a frame, the judge reads a shape covering ${percent(MIN_COVER)}–${percent(MAX_COVER)} % of every frame (${v.reason}) — ${end}`;
  }
  if (v.direction === null) {
    const [dx, dy] = v.displacement ?? [0, 0];
    return `reads ${v.colour}, no direction: the shape moves ${Math.max(Math.abs(dx), Math.abs(dy)).toFixed(2)} of the frame from the first frame to the last, the judge reads a direction from ${MIN_DISPLACEMENT} on (${v.reason}) — ${end}`;
  }
  return `reads ${v.colour} ${v.direction} — ${end}`;
}
