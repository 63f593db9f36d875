// What an output name leads to (src/io/node-write.ts, src/cli/outputs.ts): a symlink is written
// through (the file it leads to is replaced, the link stays); a device, FIFO or a link through /proc
// (/dev/stdout) is refused before any work and never replaced at commit; a write error names the
// file and its cause; a failed rename in a group puts back the files already renamed; ffmpeg's
// failure is quoted by the line that says why.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { commitTemps, dropTemp, OutputError, outputTarget, writeFileAtomic, writeTemp } from '../../src/io/node-write.js';
import { checkOutputPath, makeOutputDir, notAFile } from '../../src/cli/outputs.js';
import { ffmpegCause } from '../../src/video/ffmpeg.js';

// writeSync fails with ENOSPC while `enospc` is set (a full disk, without mounting one); readlinkSync with EIO while `readlinkEio` is
let enospc = false;
let readlinkEio = false;
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  return {
    ...real,
    writeSync: (...a: Parameters<typeof real.writeSync>) => {
      if (enospc) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return real.writeSync(...a);
    },
    readlinkSync: (...a: Parameters<typeof real.readlinkSync>) => {
      if (readlinkEio) throw Object.assign(new Error('EIO: i/o error, readlink'), { code: 'EIO' });
      return real.readlinkSync(...a);
    },
  };
});

const dir = mkdtempSync(join(tmpdir(), 'tessera-output-targets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const temps = (d: string) => readdirSync(d).filter((f) => f.includes('.tmp-'));
const HINT = 'tessera writes each output as a file (to a temp beside it, renamed over it), not to a device or a stream: give a file path';

describe('a symlink output is written through', () => {
  it('the file it leads to is replaced and the link stays; a dangling link creates its target', async () => {
    const d = join(dir, 'link');
    mkdirSync(join(d, 'real'), { recursive: true });
    writeFileSync(join(d, 'real', 't.bin'), 'old');
    symlinkSync('real/t.bin', join(d, 'l.bin'));
    expect(outputTarget(join(d, 'l.bin'))).toBe(join(d, 'real', 't.bin'));
    expect(() => checkOutputPath('out', join(d, 'l.bin'))).not.toThrow();
    await writeFileAtomic(join(d, 'l.bin'), new Uint8Array([1, 2]));
    expect(lstatSync(join(d, 'l.bin')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(d, 'l.bin'))).toBe('real/t.bin');
    expect([...readFileSync(join(d, 'real', 't.bin'))]).toEqual([1, 2]);
    symlinkSync('real/new.bin', join(d, 'dangling.bin'));
    await writeFileAtomic(join(d, 'dangling.bin'), new Uint8Array([3]));
    expect([...readFileSync(join(d, 'real', 'new.bin'))]).toEqual([3]);
    expect(lstatSync(join(d, 'dangling.bin')).isSymbolicLink()).toBe(true);
    expect([...temps(d), ...temps(join(d, 'real'))]).toEqual([]);
    // a dangling link into a missing folder is refused naming the link and its target
    symlinkSync('nowhere/x.bin', join(d, 'lost.bin'));
    expect(() => checkOutputPath('out', join(d, 'lost.bin'))).toThrow(`--out ${join(d, 'lost.bin')} (a link to ${join(d, 'nowhere', 'x.bin')}): the folder ${join(d, 'nowhere')} does not exist`);
  });
});

describe('non-regular outputs are refused before any work and never replaced', () => {
  const d = join(dir, 'special');
  mkdirSync(d);
  execFileSync('mkfifo', [join(d, 'fifo')]);
  symlinkSync('/dev/null', join(d, 'null.bin'));
  symlinkSync('/proc/self/fd/1', join(d, 'stdout.bin'));

  it('a FIFO, a link to a device, a link through /proc: one line naming the flag, what it is, and what to give', () => {
    expect(notAFile('/dev/null')).toBe(`is a character device, not a regular file; ${HINT}`);
    expect(() => checkOutputPath('out', join(d, 'fifo'))).toThrow(`--out ${join(d, 'fifo')}: is a FIFO (named pipe), not a regular file; ${HINT}`);
    expect(() => checkOutputPath('trace', join(d, 'null.bin'))).toThrow(`--trace ${join(d, 'null.bin')}: a link to /dev/null, which is a character device, not a regular file; ${HINT}`);
    expect(() => checkOutputPath('out', join(d, 'stdout.bin'))).toThrow(`--out ${join(d, 'stdout.bin')}: a link to /proc/self/fd/1, a process's open file (such as stdout), not a regular file; ${HINT}`);
    expect(() => checkOutputPath('out', '/dev/stdout')).toThrow(`--out /dev/stdout: a link to /proc/self/fd/1, a process's open file (such as stdout), not a regular file; ${HINT}`);
    expect(lstatSync(join(d, 'fifo')).isFIFO()).toBe(true);
    expect(temps(d)).toEqual([]);
  });

  it('commitTemps refuses a name that is not a regular file before renaming anything', () => {
    const a = join(d, 'a.bin');
    const files = [
      { tmp: writeTemp(a, new Uint8Array([1])), path: a },
      { tmp: writeTemp(join(d, 'fifo'), new Uint8Array([2])), path: join(d, 'fifo') },
    ];
    expect(() => commitTemps(files)).toThrow(new OutputError(`cannot write ${join(d, 'fifo')}: it is a FIFO (named pipe), not a regular file; ${HINT}`));
    expect(existsSync(a)).toBe(false);
    expect(lstatSync(join(d, 'fifo')).isFIFO()).toBe(true);
    expect(temps(d)).toEqual([]);
  });
});

describe('a failed commit leaves the names as they were', () => {
  it('files renamed before a failed rename are put back (an old file restored, a new one removed)', () => {
    const d = join(dir, 'rollback');
    mkdirSync(d);
    writeFileSync(join(d, 'old.bin'), 'old');
    const files = ['old.bin', 'new.bin', 'lost.bin'].map((n) => ({ tmp: writeTemp(join(d, n), new Uint8Array([7])), path: join(d, n) }));
    dropTemp(files[2]!.tmp); // its rename fails (ENOENT) after the first two are renamed
    expect(() => commitTemps(files)).toThrow(new OutputError(`cannot write ${join(d, 'lost.bin')}: its folder (or its temp file) is gone (ENOENT)`, 'ENOENT'));
    expect(readFileSync(join(d, 'old.bin'), 'utf8')).toBe('old');
    expect(readdirSync(d)).toEqual(['old.bin']); // no new file, temp or backup left
  });
});

describe('a folder in place of an output file of an output folder (demo --out DIR)', () => {
  it('makeOutputDir refuses it before any work, naming the file', () => {
    const d = join(dir, 'demo-out');
    mkdirSync(join(d, 'trace.json'), { recursive: true });
    expect(() => makeOutputDir('out', d, ['clip.gif', 'trace.json'])).toThrow(`--out ${d}: cannot write trace.json there: is a folder, expected a file name`);
    // a symlink to a folder is the folder it leads to
    const e = join(dir, 'demo-link');
    mkdirSync(join(e, 'sub'), { recursive: true });
    symlinkSync('sub', join(e, 'clip.gif'));
    expect(() => makeOutputDir('out', e, ['clip.gif'])).toThrow(`--out ${e}: cannot write clip.gif there: is a folder, expected a file name`);
    expect(readdirSync(d)).toEqual(['trace.json']);
  });
});

describe('commitTemps names the file that failed and leaves no temp', () => {
  it('an error checking the second file names the second file', () => {
    const d = join(dir, 'names');
    mkdirSync(d);
    writeFileSync(join(d, 'plain'), '');
    const a = join(d, 'a.bin');
    const b = join(d, 'plain', 'b.bin'); // below a file: lstat fails with ENOTDIR
    const files = [{ tmp: writeTemp(a, new Uint8Array([1])), path: a }, { tmp: join(d, 'b.bin.tmp-x'), path: b }];
    expect(() => commitTemps(files)).toThrow(new OutputError(`cannot write ${b}: the write failed (ENOTDIR)`, 'ENOTDIR'));
    expect(readdirSync(d)).toEqual(['plain']);
  });

  it('a link that cannot be read (readlink fails) drops every temp of the group', () => {
    const d = join(dir, 'unreadable-link');
    mkdirSync(d);
    symlinkSync('t.bin', join(d, 'l.bin'));
    const files = ['a.bin', 'l.bin'].map((n) => ({ tmp: writeTemp(join(d, n), new Uint8Array([1])), path: join(d, n) }));
    readlinkEio = true;
    try {
      expect(() => commitTemps(files)).toThrow(new OutputError(`cannot write ${join(d, 'l.bin')}: an input/output error of the device (EIO)`, 'EIO'));
    } finally {
      readlinkEio = false;
    }
    expect(readdirSync(d).sort()).toEqual(['l.bin']);
  });

  it('outputs x and x.old: each keeps its own backup, so a failed rename puts both back', () => {
    const d = join(dir, 'old-names');
    mkdirSync(d);
    writeFileSync(join(d, 'x'), 'old x');
    writeFileSync(join(d, 'x.old'), 'old x.old');
    const files = ['x', 'x.old', 'lost'].map((n) => ({ tmp: writeTemp(join(d, n), new Uint8Array([7])), path: join(d, n) }));
    dropTemp(files[2]!.tmp); // its rename fails (ENOENT) after x and x.old are renamed
    expect(() => commitTemps(files)).toThrow(new OutputError(`cannot write ${join(d, 'lost')}: its folder (or its temp file) is gone (ENOENT)`, 'ENOENT'));
    expect(readFileSync(join(d, 'x'), 'utf8')).toBe('old x');
    expect(readFileSync(join(d, 'x.old'), 'utf8')).toBe('old x.old');
    expect(readdirSync(d).sort()).toEqual(['x', 'x.old']);
  });
});

describe('a write error names the file and the cause', () => {
  it('ENOSPC while writing: OutputError `cannot write PATH: no space left on the device (ENOSPC)`, no temp left', async () => {
    const d = join(dir, 'full');
    mkdirSync(d);
    enospc = true;
    try {
      await expect(writeFileAtomic(join(d, 'g.safetensors'), new Uint8Array(10))).rejects.toThrow(new OutputError(`cannot write ${join(d, 'g.safetensors')}: no space left on the device (ENOSPC)`, 'ENOSPC'));
    } finally {
      enospc = false;
    }
    expect(readdirSync(d)).toEqual([]);
  });
});

describe('ffmpegCause', () => {
  it('quotes the line with the system error, not the last line (its consequence)', () => {
    const err = '[mp4 @ 0x55d0] Could not write header for output file #0 (incorrect codec parameters ?): No space left on device\nError initializing output stream 0:0 -- \n';
    expect(ffmpegCause(err)).toBe('[mp4 @ 0x55d0] Could not write header for output file #0 (incorrect codec parameters ?): No space left on device');
    expect(ffmpegCause('Unknown encoder libx264\n')).toBe('Unknown encoder libx264');
    expect(ffmpegCause('')).toBe('');
  });
});
