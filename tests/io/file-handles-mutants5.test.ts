// Mutation round 5 (session 18) on the file handles of readSafetensors (b5afd97) and ModelFolder.release (22ac001).
// readSafetensors closes a path it opened, also when it refuses the file. After release() the next read opens the
// shard again: two reads at once open it once (the second waits for the first's open: two opens would leave one handle
// that no release closes); a name that is not one of the shards is refused as before release, not opened; a close()
// while a shard is being opened again fails that read as closed. Linux (/proc/self/fd names the files a process holds).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { ModelFolderError, openModelFolder } from '../../src/io/model-folder.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { readSafetensors } from '../../src/io/read-safetensors.js';
import type { FolderSource } from '../../src/io/source.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { ROOT } from '../helpers/golden.js';
import { openOn } from '../helpers/open-files.js';

const DIR = join(ROOT, 'models', 'tessera-shapes', 'text_encoder');
const SHARD = join(DIR, 'model.safetensors');

const tmp = mkdtempSync(join(tmpdir(), 'tessera-handles5-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(process.platform !== 'linux')('readSafetensors of a path', () => {
  it('no handle left open on the file, after a read and after a refusal', async () => {
    const file = join(tmp, 'ckpt.safetensors');
    writeFileSync(file, writeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }]));
    expect((await readSafetensors(file)).tensors.get('w')!.data).toEqual(new Float32Array([1, 2]));
    expect(openOn(file)).toBe(0);
    await expect(readSafetensors(file, { only: ['v'] })).rejects.toThrow(/no tensor "v"/);
    expect(openOn(file)).toBe(0);
  });
});

describe.skipIf(process.platform !== 'linux')('ModelFolder.release', () => {
  it('reads at once after a release open the shard once; the next release leaves no handle', async () => {
    // opens counted at the folder (a handle opened twice and dropped may be closed by the GC before /proc shows it)
    const base = nodeFolder(DIR);
    let opens = 0;
    const counted: FolderSource = { ...base, open: async (rel) => (opens++, base.open(rel)) };
    const folder = await openModelFolder(counted, { library: 'transformers' });
    try {
      const [name, other] = [...folder.tensors.keys()];
      const first = await folder.readF32(name!);
      await folder.release!();
      expect(openOn(SHARD)).toBe(0);
      const before = opens;
      const [a, b, c] = await Promise.all([folder.readF32(name!), folder.readF32(other!), folder.source('model.safetensors')]);
      expect(opens - before).toBe(1);
      expect(a).toEqual(first);
      expect(b.length).toBeGreaterThan(0);
      expect(c).toBe(await folder.source('model.safetensors'));
      expect(openOn(SHARD)).toBe(1);
      await folder.release!();
      expect(openOn(SHARD)).toBe(0);
    } finally {
      await folder.close();
    }
  });

  it('a name that is not a shard is refused after a release as before it, naming the shards', async () => {
    const folder = await openModelFolder(nodeFolder(DIR), { library: 'transformers' });
    try {
      const refusal = new ModelFolderError("not one of the folder's safetensors files (model.safetensors)", join(DIR, 'config.json'));
      await expect(folder.source('config.json')).rejects.toThrow(refusal);
      await folder.release!();
      await expect(folder.source('config.json')).rejects.toThrow(refusal);
    } finally {
      await folder.close();
    }
  });

  it('close() while a released shard is being opened again: that read fails as closed, and its handle is closed', async () => {
    const folder = await openModelFolder(nodeFolder(DIR), { library: 'transformers' });
    await folder.release!();
    const reading = folder.source('model.safetensors');
    await folder.close();
    await expect(reading).rejects.toThrow(new ModelFolderError('model folder is closed', SHARD));
    expect(openOn(SHARD)).toBe(0);
  });
});
