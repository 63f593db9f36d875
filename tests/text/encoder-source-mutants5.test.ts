// Mutation round 5 (session 18) on loadTextEncoder's sources (9546b81): an object with readText but no open is not a
// FolderSource (it is refused as a folders object naming its key, not taken as the pipeline folder and failing later
// on a missing open), and subFolder (moved to src/io/source.ts, public) lists a folder below it, not its own files.
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { InputError } from '../../src/model/model.js';
import { mapFolder, subFolder } from '../../src/io/source.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';

describe('loadTextEncoder sources', () => {
  it('an object with readText and no open is refused in one line, before anything is read', async () => {
    let reads = 0;
    const e = (await loadTextEncoder({ readText: async () => void reads++ } as never).catch((x: unknown) => x)) as Error;
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/^readText: not a folder of loadTextEncoder \(folders: tokenizer, textEncoder\)/);
    expect(reads).toBe(0);
  });

  it("subFolder's list(dir) lists dir inside it", async () => {
    const u = new Uint8Array(1);
    const m = mapFolder('m', new Map([['text_encoder/config.json', u], ['text_encoder/sub/b.json', u], ['tokenizer/t.json', u]]));
    const te = subFolder(m, 'text_encoder');
    expect(await te.list!()).toEqual(['config.json']);
    expect(await te.list!('sub')).toEqual(['b.json']);
  });
});
