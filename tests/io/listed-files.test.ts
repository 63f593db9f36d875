// listedFiles: a folder's file names where it can list them, else null; one place for what
// openModelFolder, the missing-weights message and the tokenizer's message read.
import { describe, expect, it } from 'vitest';
import { listedFiles, mapFolder, type FolderSource } from '../../src/io/source.js';

const base = { name: 'f', readText: async () => null, open: async () => Promise.reject(new Error('no')) };

describe('listedFiles', () => {
  it('the names a folder lists; null without list; null (or ifFailed) when listing fails', async () => {
    expect(await listedFiles(mapFolder('m', new Map([['a.json', new Uint8Array(1)]])))).toEqual(['a.json']);
    expect(await listedFiles(base)).toBeNull();
    expect(await listedFiles(base, [])).toBeNull(); // no list at all: unknown, whatever ifFailed says
    const failing: FolderSource = { ...base, list: async () => Promise.reject(new Error('ENOENT')) };
    expect(await listedFiles(failing)).toBeNull();
    expect(await listedFiles(failing, [])).toEqual([]);
  });
});
