// findFfmpeg's probes (ffmpeg -version, -encoders; spawnSync) when ffmpeg dies of a signal: Ctrl-C reaches the
// whole process group, so ffmpeg dies of the SIGINT while tessera, blocked in spawnSync, has yet to run its
// handler. That is no ffmpeg fault: the run ends as any interrupted run does (`tessera: stopped by SIGINT`,
// 130), not with `EncoderError: … -version failed (): is it a working ffmpeg?` (exit 1). An ffmpeg that
// fails with an empty stderr is quoted by its exit status, not by `()`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EncoderError, findFfmpeg } from '../../src/video/ffmpeg.js';
import { tesseraCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-ffmpeg-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A folder holding an executable `ffmpeg` running only `body` (sh): no probe answered (tests/helpers/media.ts fakeFfmpeg answers them). */
function ffmpegRunning(name: string, body: string): string {
  const d = join(dir, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  writeFileSync(join(d, 'ffmpeg'), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return d;
}

function withPath<T>(path: string, f: () => T): T {
  const old = process.env['PATH'];
  process.env['PATH'] = path;
  try {
    return f();
  } finally {
    process.env['PATH'] = old;
  }
}

describe('findFfmpeg: a probe ended by a signal, an empty stderr', () => {
  it('an ffmpeg killed by a signal is said to be stopped, not broken', () => {
    const d = ffmpegRunning('dies', 'kill -TERM $$');
    const e = withPath(d, () => {
      try {
        findFfmpeg();
      } catch (x) {
        return x as Error & { signal?: string };
      }
      return null;
    });
    expect(e).toBeInstanceOf(EncoderError);
    expect(e!.message).toBe(`${join(d, 'ffmpeg')} -version was stopped by SIGTERM (not an ffmpeg fault: this process is being interrupted, or something killed ffmpeg)`);
    expect(e!.signal).toBe('SIGTERM');
  });

  it('an ffmpeg failing with an empty stderr is quoted by its exit status, never as ()', () => {
    const d = ffmpegRunning('exit3', 'exit 3');
    expect(() => withPath(d, () => findFfmpeg())).toThrow(new EncoderError(`${join(d, 'ffmpeg')} -version failed (exit 3): is it a working ffmpeg?`));
    const blank = ffmpegRunning('blank', 'echo "  " >&2; echo "real cause" >&2; echo "" >&2; exit 1');
    expect(() => withPath(blank, () => findFfmpeg())).toThrow(new EncoderError(`${join(blank, 'ffmpeg')} -version failed (real cause): is it a working ffmpeg?`));
  });
});

describe('tessera generate --video: Ctrl-C while ffmpeg is probed', () => {
  it('ends as an interrupted run: the stopped line, exit by SIGINT, no error line', async () => {
    // the process group's SIGINT, as a terminal sends it: to tessera's command process (ffmpeg's parent) and to ffmpeg
    const d = ffmpegRunning('ctrl-c', 'kill -INT $PPID\nkill -INT $$');
    const out = dir;
    const r = await tesseraCli(['generate', '--prompt', 'a cyan square moving right', '--out', join(out, 'o.safetensors'), '--video', join(out, 'v.mp4'), '--no-tune'], {
      env: { ...process.env, XDG_RUNTIME_DIR: process.env['XDG_RUNTIME_DIR'] ?? '/tmp', PATH: `${d}:${process.env['PATH']}` },
    });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.stderr).toMatch(/^tessera: stopped by SIGINT/m);
    expect(r.code).toBe(null); // ended by the signal (the launcher re-raises it: a shell sees 130), not exit 1
  });
});
