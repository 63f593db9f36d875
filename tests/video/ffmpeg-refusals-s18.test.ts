// writeMp4Ffmpeg's refusals before ffmpeg starts: a missing output folder is an OutputError naming the folder
// (ffmpeg said only `failed to encode … No such file or directory`, an EncoderError), and a missing argument from
// plain JS is one line naming it (without opts it was a raw TypeError reading 'fps').
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OutputError } from '../../src/io/output-error.js';
import { writeMp4Ffmpeg } from '../../src/video/ffmpeg.js';
import { InputError } from '../../src/model/input-error.js';
import type { RgbaFrames } from '../../src/video/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-ffmpeg-ref-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// an ffmpeg that cannot be started: a refusal after the spawn would be its ENOENT EncoderError instead
const none = { path: join(dir, 'no-ffmpeg-here'), version: 'none' };
const clip: RgbaFrames = { width: 2, height: 2, frames: [new Uint8ClampedArray(16)] };
const caught = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as Error);

describe('writeMp4Ffmpeg: output folder', () => {
  it('a folder that does not exist is an OutputError naming it, before ffmpeg starts', async () => {
    const e = await caught(writeMp4Ffmpeg(none, join(dir, 'gone', 'deeper', 'x.mp4'), clip, { fps: 8 }));
    expect(e).toBeInstanceOf(OutputError);
    expect(e!.message).toBe(`cannot write ${join(dir, 'gone', 'deeper', 'x.mp4')}: the folder ${join(dir, 'gone', 'deeper')} does not exist`);
    expect((e as OutputError).errno).toBe('ENOENT');
  });

  it('a file where the folder should be is an OutputError too, and nothing is left', async () => {
    writeFileSync(join(dir, 'afile'), 'x');
    const e = await caught(writeMp4Ffmpeg(none, join(dir, 'afile', 'x.mp4'), clip, { fps: 8 }));
    expect(e).toBeInstanceOf(OutputError);
    expect(e!.message).toBe(`cannot write ${join(dir, 'afile', 'x.mp4')}: ${join(dir, 'afile')} is a file, expected a folder`);
    expect((e as OutputError).errno).toBe('ENOTDIR');
    const deep = await caught(writeMp4Ffmpeg(none, join(dir, 'afile', 'sub', 'x.mp4'), clip, { fps: 8 }));
    expect(deep).toBeInstanceOf(OutputError);
    // the one wording of node-folder.ts folderWords, as the CLI's flags say it (it was `…/sub cannot be a folder (ENOTDIR: …)`)
    expect(deep!.message).toBe(`cannot write ${join(dir, 'afile', 'sub', 'x.mp4')}: ${join(dir, 'afile')} (a part of the path) is a file, expected a folder`);
    expect(readdirSync(dir).sort()).toEqual(['afile']);
  });

  it('another failure to look the folder up names its code and the OS message, not "a folder on its path is a file"', async () => {
    const sub = join(dir, 'loops');
    mkdirSync(sub);
    symlinkSync(join(sub, 'loop'), join(sub, 'loop')); // a link to itself: stat fails with ELOOP
    const e = await caught(writeMp4Ffmpeg(none, join(sub, 'loop', 'x.mp4'), clip, { fps: 8 }));
    expect(e).toBeInstanceOf(OutputError);
    expect(e!.message).toBe(`cannot write ${join(sub, 'loop', 'x.mp4')}: the folder ${join(sub, 'loop')} cannot be looked up (ELOOP: too many symbolic links encountered)`);
    expect((e as OutputError).errno).toBe('ELOOP');
    rmSync(sub, { recursive: true });
  });
});

describe('writeMp4Ffmpeg from plain JS: a missing argument', () => {
  const call = writeMp4Ffmpeg as unknown as (...a: unknown[]) => Promise<unknown>;
  it.each([
    [[none, join(dir, 'a.mp4'), clip], 'writeMp4Ffmpeg: argument 4 missing: the options ({ fps })'],
    [[none, join(dir, 'a.mp4')], 'writeMp4Ffmpeg: argument 3 missing: the clip ({ width, height, frames })'],
    [[none], 'writeMp4Ffmpeg: argument 2 missing: the MP4 file path'],
    [[undefined, join(dir, 'a.mp4'), clip, { fps: 8 }], 'writeMp4Ffmpeg: argument 1 missing: the Ffmpeg from findFfmpeg()'],
  ])('%# is one line naming it', async (args, msg) => {
    const e = await caught(call(...args));
    expect(e).toBeInstanceOf(InputError);
    expect(e!.message).toBe(msg);
  });
});
