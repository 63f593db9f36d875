// A file that is there but cannot be read as one (a folder in its place, a path through a file, a
// FIFO) is one error naming the file and why, of the kind a missing file gets where it is read:
// ModelFolderError for a model folder's config.json / weights, SchedulerConfigError for generate
// --model's scheduler_config.json; never a raw "EISDIR: illegal operation on a directory, read".
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFolderError, openModelFolder } from '../../src/io/model-folder.js';
import { fileSource, nodeFolder, readTextFileSync } from '../../src/io/node-source.js';
import { FileAccessError } from '../../src/io/source.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { SchedulerConfigError } from '../../src/sampler/config.js';
import { cliScheduler } from '../../src/cli/cmd-generate.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-unreadable-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const CONFIG = JSON.stringify({ _class_name: 'DiTTransformer2DModel' });
const WEIGHTS = writeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }]);

/** A model folder with config.json and weights, `folderAt` made a folder instead of a file. */
function modelDir(name: string, folderAt: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [f, data] of [['config.json', CONFIG], ['diffusion_pytorch_model.safetensors', WEIGHTS]] as const) {
    if (f === folderAt) mkdirSync(join(dir, f));
    else writeFileSync(join(dir, f), data);
  }
  return dir;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('nodeFolder / fileSource: there but not readable', () => {
  const dir = join(root, 'plain');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'afile'), 'x');

  it('readText of a folder: FileAccessError "is a folder, not a file"; a missing file is still null', async () => {
    const f = nodeFolder(dir);
    const e = await rejection(f.readText('sub'));
    expect(e).toBeInstanceOf(FileAccessError);
    expect(e.message).toBe(`${join(dir, 'sub')}: is a folder, not a file`);
    expect((e as FileAccessError).errno).toBe('EISDIR');
    expect(await f.readText('nothing.json')).toBeNull();
  });

  it('a path through a file (ENOTDIR) names the path', async () => {
    const e = await rejection(nodeFolder(dir).readText('afile/config.json'));
    expect(e).toBeInstanceOf(FileAccessError);
    expect(e.message).toBe(`${join(dir, 'afile/config.json')}: cannot be read: a folder on its path is a file (ENOTDIR)`);
  });

  it('open / fileSource of a folder or a FIFO: FileAccessError (a FIFO is refused before it can block); missing stays ENOENT', async () => {
    const e = await rejection(nodeFolder(dir).open('sub'));
    expect(e.message).toBe(`${join(dir, 'sub')}: is a folder, not a file`);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const e2 = await rejection(fileSource(fifo));
    expect(e2).toBeInstanceOf(FileAccessError);
    expect(e2.message).toBe(`${fifo}: is not a regular file`);
    const e3 = await rejection(nodeFolder(dir).readText('fifo'));
    expect(e3.message).toBe(`${fifo}: is not a regular file`);
    expect((await rejection(fileSource(join(dir, 'nothing'))) as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('readTextFileSync: null when missing, FileAccessError for a folder', () => {
    expect(readTextFileSync(join(dir, 'nothing'))).toBeNull();
    expect(readTextFileSync(join(dir, 'afile'))).toBe('x');
    expect(() => readTextFileSync(join(dir, 'sub'))).toThrow(FileAccessError);
    expect(() => readTextFileSync(join(dir, 'sub'))).toThrow(/^\/.*\/sub: is a folder, not a file$/);
  });
});

describe('openModelFolder: a folder where config.json or the weights should be', () => {
  it.each(['config.json', 'diffusion_pytorch_model.safetensors'])('%s is a folder: ModelFolderError naming it', async (f) => {
    const dir = modelDir(`m-${f}`, f);
    const e = await rejection(openModelFolder(nodeFolder(dir)));
    expect(e).toBeInstanceOf(ModelFolderError);
    expect(e.message).toBe(`${dir}/${f}: is a folder, not a file`);
  });
});

describe("generate --model's scheduler_config.json", () => {
  it('a folder in its place: SchedulerConfigError naming it (not "no scheduler config", not EISDIR)', () => {
    const dir = modelDir('m-sched', '');
    mkdirSync(join(dir, 'scheduler_config.json'));
    let err: unknown;
    try {
      cliScheduler(dir, undefined, undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchedulerConfigError);
    expect((err as Error).message).toBe(`${join(dir, 'scheduler_config.json')}: is a folder, not a file`);
  });
});
