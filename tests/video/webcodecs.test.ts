// encodeMp4WebCodecs checks the clip and fps before it looks for the browser's encoder, so a bad call
// is reported as such wherever it runs (here in Node, which has no VideoEncoder): a frame of another
// length than width×height RGBA was padded or handed to the encoder as it was.
import { describe, expect, it } from 'vitest';
import { encodeMp4WebCodecs } from '../../src/video/webcodecs.js';

const frame = () => new Uint8ClampedArray(4 * 4 * 4).fill(255);
const refusal = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error) => `${e.constructor.name}: ${e.message}`);

describe('encodeMp4WebCodecs input checks', () => {
  it('names the frame of the wrong length, no frames, and an fps outside (0, 240]', async () => {
    expect(await refusal(encodeMp4WebCodecs({ width: 4, height: 4, frames: [frame(), new Uint8ClampedArray(10)] }, { fps: 8 }))).toBe('InputError: MP4 frame 1: frame has 10 bytes, 4x4 RGBA needs 64');
    expect(await refusal(encodeMp4WebCodecs({ width: 3, height: 4, frames: [frame()] }, { fps: 8 }))).toBe('InputError: MP4 frame 0: frame has 64 bytes, 3x4 RGBA needs 48');
    expect(await refusal(encodeMp4WebCodecs({ width: 4, height: 4, frames: [] }, { fps: 8 }))).toBe('InputError: MP4: no frames');
    expect(await refusal(encodeMp4WebCodecs({ width: 4, height: 4, frames: [frame()] }, { fps: 0 }))).toBe('InputError: MP4: fps must be in (0, 240], got 0');
  });

  it('a good clip outside a browser: no WebCodecs VideoEncoder', async () => {
    expect(await refusal(encodeMp4WebCodecs({ width: 4, height: 4, frames: [frame()] }, { fps: 8 }))).toBe(
      'Error: MP4: this browser has no WebCodecs VideoEncoder (needs a secure context: https or localhost); download the GIF instead',
    );
  });
});
