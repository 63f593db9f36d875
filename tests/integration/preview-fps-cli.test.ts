// `generate --preview FILE.gif --fps N` above 50: GIF frame delays are whole hundredths of a second and
// browsers play delays of 0 or 1 cs as 10 cs, so such a GIF would play slower than asked; below 0.00153
// a delay no longer fits its 16 bits (65535 cs) and would wrap (0.001 fps played at 0.0029). Refused
// before any GPU work (one UsageError line, exit 2, nothing written), not capped silently.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../hardening/helpers.js';

describe('generate --preview --fps outside [0.00153, 50]', () => {
  it.each([60, 100])('--fps %d is refused with the reason and the maximum, exit 2', async (fps) => {
    const dir = tempDir();
    const out = join(dir, 'o.safetensors');
    const gif = join(dir, 'clip.gif');
    const r = await cli(['generate', '--prompt', 'a red circle moving up', '--steps', '1', '--out', out, '--preview', gif, '--fps', String(fps)]);
    expect(r.errLines).toEqual([
      `tessera: error: UsageError: --fps ${fps} with --preview ${gif}: a GIF plays at most 50 fps (its frame delays are whole hundredths of a second, and browsers play delays under 2 cs as 10 cs); give --fps 50 or less, or drop --preview (--video FILE.mp4 takes up to 100)`,
    ]);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(gif)).toBe(false);
  });

  it('--fps 0.001 (a delay over 65535 cs) is refused with the reason and the minimum, exit 2', async () => {
    const dir = tempDir();
    const out = join(dir, 'o.safetensors');
    const gif = join(dir, 'clip.gif');
    const r = await cli(['generate', '--prompt', 'a red circle moving up', '--steps', '1', '--out', out, '--preview', gif, '--fps', '0.001']);
    expect(r.errLines).toEqual([
      `tessera: error: UsageError: --fps 0.001 with --preview ${gif}: a GIF plays at least 0.00153 fps (a frame's delay is a 16-bit count of hundredths of a second: 655.35 s at most); give --fps 0.00153 or more, or drop --preview (--video FILE.mp4 takes it)`,
    ]);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(gif)).toBe(false);
  });
});
