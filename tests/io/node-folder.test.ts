// folderProblem: the one check of an output file's folder behind writeMp4Ffmpeg (OutputError),
// checkOutputPath, planMedia's --frames-dir and unwritableDir (demo's --out, tune's cache folder: UsageError), and
// folderWords, the one wording of each kind they all give (they worded it three ways, and writeMp4Ffmpeg made up
// EACCES for a folder it may not write in: now the code is access()'s own). The not-writable case runs as user
// nobody (setpriv), as root may write in any folder: it was skipped under root, i.e. always here.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { planMedia } from '../../src/cli/media.js';
import { checkOutputDir, unwritableDir } from '../../src/cli/outputs.js';
import { folderProblem, folderWords, nearestFolderProblem } from '../../src/io/node-folder.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const repo = join(import.meta.dirname, '..', '..');
// switching to nobody needs setpriv, and root (CAP_SETUID) to run it
const setpriv = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'setpriv')).find((f) => existsSync(f));
const asNobody = !setpriv ? 'setpriv is missing' : process.getuid?.() !== 0 ? 'not root: setpriv cannot switch to nobody' : null;

describe('folderProblem', () => {
  it('answers each kind, and null for a folder that takes files', () => {
    writeFileSync(join(dir, 'afile'), 'x');
    mkdirSync(join(dir, 'loops'));
    symlinkSync(join(dir, 'loops', 'loop'), join(dir, 'loops', 'loop'));
    expect(folderProblem(dir)).toBeNull();
    expect(folderProblem(join(dir, 'gone'))).toEqual({ kind: 'missing', code: 'ENOENT' });
    expect(folderProblem(join(dir, 'afile'))).toEqual({ kind: 'not-folder', code: 'ENOTDIR' });
    expect(folderProblem(join(dir, 'afile', 'sub', 'deeper'))).toEqual({ kind: 'below-file', code: 'ENOTDIR', file: join(dir, 'afile') });
    expect(folderProblem(join(dir, 'loops', 'loop'))).toEqual({ kind: 'lookup-failed', code: 'ELOOP', os: 'too many symbolic links encountered' });
  });

  it('nearestFolderProblem walks up to the nearest existing folder; folderWords words each kind one way', () => {
    expect(nearestFolderProblem(join(dir, 'gone', 'deeper'))).toBeNull();
    // a name too long to exist is walked past like a missing one: makeOutputDir's mkdir then says how long (output-commit-cli)
    expect(folderProblem(join(dir, 'e'.repeat(256)))).toMatchObject({ kind: 'lookup-failed', code: 'ENAMETOOLONG' });
    expect(nearestFolderProblem(join(dir, 'e'.repeat(256), 'sub'))).toBeNull();
    expect(nearestFolderProblem(join(dir, 'afile'))).toEqual({ folder: join(dir, 'afile'), problem: { kind: 'not-folder', code: 'ENOTDIR' } });
    expect(nearestFolderProblem(join(dir, 'afile', 'gone'))).toEqual({ folder: join(dir, 'afile', 'gone'), problem: { kind: 'below-file', code: 'ENOTDIR', file: join(dir, 'afile') } });
    const d = '/x';
    expect(folderWords(d, { kind: 'missing', code: 'ENOENT' })).toBe('the folder /x does not exist');
    expect(folderWords(d, { kind: 'below-file', code: 'ENOTDIR', file: '/f' })).toBe('/f (a part of the path) is a file, expected a folder');
    expect(folderWords(d, { kind: 'not-folder', code: 'ENOTDIR' })).toBe('/x is a file, expected a folder');
    expect(folderWords(d, { kind: 'lookup-failed', code: 'ELOOP', os: 'too many symbolic links encountered' })).toBe('the folder /x cannot be looked up (ELOOP: too many symbolic links encountered)');
    expect(folderWords(d, { kind: 'not-writable', code: 'EROFS', os: 'read-only file system' })).toBe('the folder /x is not writable (EROFS: read-only file system)');
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

  it.skipIf(asNobody !== null)(`as user nobody, a folder it may not write in is not-writable with access()'s code, and every caller refuses it in those words before any work${asNobody ? ` (skipped: ${asNobody})` : ''}`, async () => {
    chmodSync(dir, 0o755); // nobody may look inside, not write
    const ro = join(dir, 'ro');
    mkdirSync(ro, { mode: 0o755 });
    const url = (f: string) => JSON.stringify(`file://${join(repo, f)}`);
    // each check as nobody sees it: one JSON line per call (the error's class, message and errno)
    const script = `
      const said = async (f) => { try { return { value: await f() }; } catch (e) { return { name: e.constructor.name, message: e.message, errno: e.errno }; } };
      const { folderProblem } = await import(${url('src/io/node-folder.ts')});
      const { unwritableDir, checkOutputPath } = await import(${url('src/cli/outputs.ts')});
      const { planMedia } = await import(${url('src/cli/media.ts')});
      const { writeMp4Ffmpeg } = await import(${url('src/video/ffmpeg.ts')});
      const ro = ${JSON.stringify(ro)};
      const clip = { width: 2, height: 2, frames: [new Uint8ClampedArray(16)] };
      for (const f of [() => folderProblem(ro), () => unwritableDir(ro + '/new/deeper'), () => checkOutputPath('out', ro + '/x.bin'), () => planMedia({ 'frames-dir': ro + '/frames' }),
        () => writeMp4Ffmpeg({ path: ro + '/no-ffmpeg-here', version: 'none' }, ro + '/x.mp4', clip, { fps: 8 })]) console.log(JSON.stringify(await said(f)));`;
    const { stdout } = await promisify(execFile)(setpriv!, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo, env: { ...process.env, HOME: '/nonexistent' } });
    const why = `the folder ${ro} is not writable (EACCES: permission denied)`;
    expect(stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { value: { kind: 'not-writable', code: 'EACCES', os: 'permission denied' } },
      { value: why },
      { name: 'UsageError', message: `--out ${ro}/x.bin: ${why}` },
      { name: 'UsageError', message: `--frames-dir ${ro}/frames: ${why}` },
      { name: 'OutputError', message: `cannot write ${ro}/x.mp4: ${why}`, errno: 'EACCES' },
    ]);
  }, 60_000);
});
