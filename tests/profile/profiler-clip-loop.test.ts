// The profiler page's clip (examples/profiler/clip-loop.ts): the frames canvas and the MP4 player play for a
// while after a new clip or a look at them, then stop; they used to loop for as long as the page stayed open
// (~8 % of a core in Chromium, through every later test of a browser test file).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClipLoop, CLIP_PLAY_MS } from '../../examples/profiler/clip-loop.js';

/** A `<video>` as the loop sees it: autoplaying (playing) unless told otherwise. */
function video(paused = false) {
  const v = { paused, plays: 0, play: () => void ((v.paused = false), v.plays++), pause: () => void (v.paused = true) };
  return v;
}

describe('profiler clip loop', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('draws a frame every 125 ms, then stops the canvas and the video after CLIP_PLAY_MS', () => {
    const v = video();
    const loop = new ClipLoop(v);
    let frames = 0;
    loop.start(() => frames++);
    vi.advanceTimersByTime(1000);
    expect(frames).toBe(8);
    expect(loop.playing).toBe(true);
    vi.advanceTimersByTime(CLIP_PLAY_MS - 1000);
    const atStop = frames;
    expect(loop.playing).toBe(false);
    expect(v.paused).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(frames, 'no frame drawn once stopped').toBe(atStop);
  });

  it('a look (wake) plays both on for CLIP_PLAY_MS more; a wake while playing pushes the stop back', () => {
    const v = video();
    const loop = new ClipLoop(v);
    let frames = 0;
    loop.start(() => frames++);
    vi.advanceTimersByTime(CLIP_PLAY_MS - 100);
    loop.wake();
    vi.advanceTimersByTime(CLIP_PLAY_MS - 100);
    expect(loop.playing).toBe(true);
    expect(v.paused).toBe(false);
    vi.advanceTimersByTime(200);
    expect(loop.playing).toBe(false);
    const stopped = frames;
    loop.wake();
    expect(v.paused, 'the video this loop paused plays again').toBe(false);
    vi.advanceTimersByTime(1000);
    expect(frames).toBe(stopped + 8);
  });

  it('a video the user paused stays paused when the loop stops and wakes', () => {
    const v = video(true);
    const loop = new ClipLoop(v);
    loop.start(() => undefined);
    vi.advanceTimersByTime(CLIP_PLAY_MS);
    loop.wake();
    expect(v.paused).toBe(true);
    expect(v.plays).toBe(0);
  });

  it('a new clip replaces the old one\'s frames; a one-frame clip draws nothing on a timer; bad timings are refused', () => {
    const loop = new ClipLoop(null);
    let a = 0;
    let b = 0;
    loop.start(() => a++);
    vi.advanceTimersByTime(250);
    loop.start(() => b++);
    vi.advanceTimersByTime(250);
    expect([a, b]).toEqual([2, 2]);
    loop.start(null);
    vi.advanceTimersByTime(1000);
    expect([a, b]).toEqual([2, 2]);
    expect(() => new ClipLoop(null, 0)).toThrow('ClipLoop: playMs and frameMs must be > 0 (got 0, 125)');
  });
});
