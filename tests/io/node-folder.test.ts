// folderProblem: the one check of an output file's folder behind writeMp4Ffmpeg (OutputError),
// checkOutputPath, planMedia's --frames-dir and unwritableDir (demo's --out, tune's cache folder: UsageError); each kind it answers, and the one
// writeMp4Ffmpeg did not check before it (a folder it may not write in: ffmpeg failed, an EncoderError).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { planMedia } from '../../src/cli/media.js';
import { checkOutputDir, unwritableDir } from '../../src/cli/outputs.js';
import { folderProblem } from '../../src/io/node-folder.js';
import { OutputError } from '../../src/io/output-error.js';
import { writeMp4Ffmpeg } from '../../src/video/ffmpeg.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// root may write in any folder: the mode test needs another user
const root = process.getuid?.() === 0;

describe('folderProblem', () => {
  it('answers each kind, and null for a folder that takes files', () => {
    writeFileSync(join(dir, 'afile'), 'x');
    mkdirSync(join(dir, 'loops'));
    symlinkSync(join(dir, 'loops', 'loop'), join(dir, 'loops', 'loop'));
    expect(folderProblem(dir)).toBeNull();
    expect(folderProblem(join(dir, 'gone'))).toEqual({ kind: 'missing' });
    expect(folderProblem(join(dir, 'afile'))).toEqual({ kind: 'not-folder' });
    expect(folderProblem(join(dir, 'afile', 'sub'))).toEqual({ kind: 'below-file' });
    expect(folderProblem(join(dir, 'loops', 'loop'))).toEqual({ kind: 'lookup-failed', code: 'ELOOP', os: 'too many symbolic links encountered' });
  });

  it('planMedia: a --frames-dir that cannot be looked up is a UsageError naming the flag (it was a raw ELOOP Error)', () => {
    mkdirSync(join(dir, 'media'));
    const loop = join(dir, 'media', 'loop');
    symlinkSync(loop, loop);
    for (const d of [loop, join(loop, 'sub')]) {
      const e = (() => {
        try {
          planMedia({ 'frames-dir': d } as never);
        } catch (x) {
          return x as Error;
        }
        return null;
      })();
      expect(e).toBeInstanceOf(UsageError);
      expect(e!.message).toBe(`--frames-dir ${d}: the folder ${d} cannot be looked up (ELOOP: too many symbolic links encountered)`);
    }
  });

  it("unwritableDir (checkOutputDir: demo's --out): a folder that cannot be looked up is refused before any work (it passed: existsSync is false for a loop)", () => {
    mkdirSync(join(dir, 'outs'));
    const loop = join(dir, 'outs', 'loop');
    symlinkSync(loop, loop);
    for (const d of [loop, join(loop, 'sub')]) {
      expect(unwritableDir(d)).toBe(`the folder ${d} cannot be looked up (ELOOP: too many symbolic links encountered)`);
      expect(() => checkOutputDir('out', d)).toThrow(new UsageError(`--out ${d}: the folder ${d} cannot be looked up (ELOOP: too many symbolic links encountered)`));
    }
    // the other answers as before
    writeFileSync(join(dir, 'outs', 'afile'), 'x');
    expect(unwritableDir(join(dir, 'outs', 'afile'))).toBe(`${join(dir, 'outs', 'afile')} is a file, expected a folder`);
    expect(unwritableDir(join(dir, 'outs', 'afile', 'a', 'b'))).toBe(`${join(dir, 'outs', 'afile')} (a part of the path) is a file, expected a folder`);
    expect(unwritableDir(join(dir, 'outs', 'new', 'deeper'))).toBeNull();
  });

  it.skipIf(root)('a folder without write permission is not-writable, and writeMp4Ffmpeg refuses it as an OutputError before ffmpeg starts', async () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro, { mode: 0o500 });
    chmodSync(ro, 0o500);
    try {
      expect(folderProblem(ro)).toEqual({ kind: 'not-writable' });
      expect(unwritableDir(join(ro, 'new'))).toBe(`the folder ${ro} is not writable`);
      const none = { path: join(dir, 'no-ffmpeg-here'), version: 'none' };
      const e = await writeMp4Ffmpeg(none, join(ro, 'x.mp4'), { width: 2, height: 2, frames: [new Uint8ClampedArray(16)] }, { fps: 8 }).then(() => null, (x: unknown) => x as Error);
      expect(e).toBeInstanceOf(OutputError);
      expect(e!.message).toBe(`cannot write ${join(ro, 'x.mp4')}: the folder ${ro} is not writable`);
    } finally {
      chmodSync(ro, 0o700);
    }
  });
});
