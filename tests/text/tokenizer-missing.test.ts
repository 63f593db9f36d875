// loadTokenizer without tokenizer.json says what the folder holds: nothing (a pipeline with no
// tokenizer, e.g. DiT's, or a wrong path), only spiece.model (unsupported), or other files; a folder
// where tokenizer.json or tokenizer_config.json should be is a TokenizerError naming it, as a missing file is.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/golden.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { mapFolder } from '../../src/io/source.js';
import { loadTokenizer, TokenizerError } from '../../src/text/tokenizer.js';

const tmp = join(import.meta.dirname, '..', '.tmp', 'tokenizer-missing');

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(TokenizerError);
  return (e as Error).message;
}

describe('loadTokenizer without tokenizer.json', () => {
  it('a folder that does not exist (a DiT pipeline has no tokenizer/)', async () => {
    const dir = join(tmp, 'dit', 'tokenizer');
    rmSync(join(tmp, 'dit'), { recursive: true, force: true });
    expect(await refusal(loadTokenizer(nodeFolder(dir)))).toBe(
      `${dir}/tokenizer.json: missing (the folder is empty or does not exist: is this the tokenizer/ folder of a text-to-video pipeline (WanPipeline)?)`,
    );
  });
  it('a folder with only spiece.model', async () => {
    const f = mapFolder('p/tokenizer', new Map([['spiece.model', new Uint8Array(4)]]));
    expect(await refusal(loadTokenizer(f))).toBe('p/tokenizer/tokenizer.json: missing (tessera reads the tokenizer from tokenizer.json; a folder with only spiece.model is not supported)');
  });
  it('a folder with other files lists them', async () => {
    const dir = join(tmp, 'other');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{}');
    expect(await refusal(loadTokenizer(nodeFolder(dir)))).toBe(`${dir}/tokenizer.json: missing (the folder holds config.json; tessera reads the tokenizer from tokenizer.json)`);
  });
});

describe('loadTokenizer: a folder in the place of one of its files', () => {
  it.each([
    ['tokenizer.json', 'tessera reads the tokenizer from tokenizer.json'],
    ['tokenizer_config.json', "the tokenizer's settings, a JSON file"],
  ])('%s: TokenizerError naming it (not a FileAccessError)', async (file, what) => {
    const dir = join(tmp, `folder-${file}`);
    rmSync(dir, { recursive: true, force: true });
    cpSync(join(FIXTURES, 'umt5_small', 'pipeline', 'tokenizer'), dir, { recursive: true });
    rmSync(join(dir, file));
    mkdirSync(join(dir, file));
    expect(await refusal(loadTokenizer(nodeFolder(dir)))).toBe(`${dir}/${file}: is a folder, not a file (${what})`);
  });
});
