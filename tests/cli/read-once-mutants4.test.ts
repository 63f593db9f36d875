// Mutation round 4 (session 17) on readTextOnce (src/cli/generate-pipeline.ts, cbcbcb4): a file's text is kept with
// the size and mtime it was read at and read again when either changes (here each change keeps the other fixed,
// with utimesSync); pipelineFolder serves a checked file the checks could not read from the folder itself, so a
// folder in a config's place is the loader's FileAccessError, not a silent null. In-process, through
// pipelineClassName and pipelineFolder. Each case failed under a mutant that survived pipeline-json-once.test.ts.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { pipelineClassName, pipelineFolder } from '../../src/cli/generate-pipeline.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-read-once-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T = new Date('2026-01-01T00:00:00Z');

describe('readTextOnce: read again when the size or the mtime changes', () => {
  it('another size at the same mtime, then the same size at another mtime: the new text each time', () => {
    const dir = join(tmp, 'changes');
    mkdirSync(dir);
    const f = join(dir, 'model_index.json');
    const write = (cls: string, at: Date) => {
      writeFileSync(f, JSON.stringify({ _class_name: cls }));
      utimesSync(f, at, at);
    };
    write('WanPipeline', T);
    expect(pipelineClassName(dir)).toBe('WanPipeline');
    write('LattePipeline', T); // 2 bytes longer, same mtime
    expect(pipelineClassName(dir)).toBe('LattePipeline');
    write('LattePipelinZ', new Date(T.getTime() + 10_000)); // same size, later mtime
    expect(pipelineClassName(dir)).toBe('LattePipelinZ');
    expect(pipelineClassName(dir)).toBe('LattePipelinZ');
  });
});

describe('pipelineFolder: a checked file the checks could not read', () => {
  it('a folder in place of transformer/config.json: the folder\'s own FileAccessError, not null', async () => {
    const dir = join(tmp, 'folder-for-file');
    mkdirSync(join(dir, 'transformer', 'config.json'), { recursive: true });
    writeFileSync(join(dir, 'model_index.json'), '{"_class_name": "WanPipeline"}');
    const folder = await pipelineFolder(dir);
    expect(await folder.readText('model_index.json')).toBe('{"_class_name": "WanPipeline"}');
    await expect(folder.readText('transformer/config.json')).rejects.toMatchObject({ name: 'FileAccessError' });
    expect(await folder.readText('vae/config.json')).toBeNull();
  });
});
