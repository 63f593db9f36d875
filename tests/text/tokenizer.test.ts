// Prompt cleaning + tokenizer against the Python side (tests/fixtures/umt5/tokenize.json, made by
// make_umt5_cases.py with diffusers' prompt_clean and the transformers tokenizer).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFolder } from '../../src/io/node-source.js';
import { htmlUnescape, promptClean } from '../../src/text/prompt.js';
import { loadTokenizer, TokenizerError } from '../../src/text/tokenizer.js';
import { FIXTURES } from '../helpers/golden.js';

const DIR = join(FIXTURES, 'umt5');
const table = JSON.parse(readFileSync(join(DIR, 'tokenize.json'), 'utf8')) as { rows: { text: string; clean: string; max_length: number; ids: number[]; mask: number[] }[] };

describe('prompt_clean', () => {
  it('matches diffusers on every string of the table', () => {
    for (const r of table.rows) expect(promptClean(r.text), JSON.stringify(r.text)).toBe(r.clean);
  });
  it('unescapes as html.unescape does (invalid code points dropped, 1252 table, no ;)', () => {
    expect(htmlUnescape('&#1;x&#x80;&#xfffe;&#127;&#0;&amp&lt;&notin;&notit;')).toBe('x€\ufffd&<∉¬it;');
  });
});

describe('tokenizer', async () => {
  const tok = await loadTokenizer(nodeFolder(join(DIR, 'tokenizer')));
  it('gives the Python ids, padding and truncation for every row', () => {
    for (const r of table.rows) {
      const b = tok.tokenize([r.text], r.max_length);
      expect([...b.ids], `${JSON.stringify(r.text)} @ ${r.max_length}`).toEqual(r.ids);
      expect(b.lengths[0]).toBe(r.mask.reduce((a, v) => a + v, 0));
    }
  });
  it('tokenizes a batch row by row', () => {
    const rows = table.rows.filter((r) => r.max_length === 24).slice(0, 3);
    const b = tok.tokenize(rows.map((r) => r.text), 24);
    expect([...b.ids]).toEqual(rows.flatMap((r) => r.ids));
  });
  it('refuses a max_sequence_length with no room for </s>', () => {
    expect(() => tok.tokenize(['x'], 0)).toThrow(TokenizerError);
  });
  it('names a missing tokenizer.json', async () => {
    await expect(loadTokenizer(nodeFolder(DIR))).rejects.toThrow(/tokenizer\.json: missing/);
  });
});
