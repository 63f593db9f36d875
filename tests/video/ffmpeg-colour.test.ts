// MP4 colour (src/video/ffmpeg.ts): RGB is converted to YUV with the BT.709 matrix in limited (TV)
// range and the stream is tagged so (primaries, transfer, matrix bt709; range tv), so a player that
// reads the tags, and one that assumes BT.709 for untagged video, both decode the colours that went in.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findFfmpeg, writeMp4Ffmpeg } from '../../src/video/ffmpeg.js';
import type { RgbaFrames } from '../../src/video/frames.js';
import { decodeMp4, hasFfmpeg } from '../helpers/media.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-ffmpeg-colour-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COLOURS = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [200, 120, 40],
] as const;

/** Four vertical bands of flat colour (COLOURS), `F` identical frames. */
function bands(F: number, W: number, H: number): RgbaFrames {
  const px = new Uint8ClampedArray(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) px.set([...COLOURS[Math.floor((x * 4) / W)]!, 255], (y * W + x) * 4);
  return { width: W, height: H, frames: Array.from({ length: F }, () => px.slice()) };
}

/** The colour tags ffprobe reads from the first video stream. */
function tags(path: string): Record<string, string> {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=color_range,color_space,color_transfer,color_primaries', '-of', 'json', path], { encoding: 'utf8' });
  return JSON.parse(out).streams[0];
}

/** Frame 0 decoded to RGB24 with the BT.709 matrix in TV range, whatever the stream's tags say (a player assuming BT.709). */
function decodeAs709(path: string): Uint8Array {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-frames:v', '1', '-vf', 'scale=in_color_matrix=bt709:in_range=tv', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
}

const run = hasFfmpeg || !!process.env['CI'];

describe.skipIf(!run)('MP4 colour: BT.709, TV range, tagged', () => {
  it('ffprobe reads bt709 primaries/transfer/matrix and tv range (odd sizes, padded, too)', async () => {
    const ff = findFfmpeg();
    for (const [w, h] of [
      [32, 16],
      [17, 13],
    ] as const) {
      const path = join(dir, `tags-${w}x${h}.mp4`);
      await writeMp4Ffmpeg(ff, path, bands(2, w, h), { fps: 8 });
      expect(tags(path)).toEqual({ color_range: 'tv', color_space: 'bt709', color_transfer: 'bt709', color_primaries: 'bt709' });
    }
  });

  it('decoded by the tags, or as BT.709 regardless, each band is its colour within 6 levels', async () => {
    const W = 64;
    const H = 16;
    const path = join(dir, 'bands.mp4');
    await writeMp4Ffmpeg(findFfmpeg(), path, bands(2, W, H), { fps: 8, crf: 0 });
    for (const rgb of [decodeMp4(path, W, H)[0]!, decodeAs709(path)]) {
      COLOURS.forEach((c, b) => {
        const x = b * 16 + 8; // the middle of band b: away from chroma edges
        const at = (8 * W + x) * 3;
        for (let k = 0; k < 3; k++) expect(Math.abs(rgb[at + k]! - c[k]!), `band ${b} channel ${k}: ${rgb.slice(at, at + 3).join(',')} vs ${c.join(',')}`).toBeLessThanOrEqual(6);
      });
    }
  });
});
