// tokenizer_config.json's "truncation_side" / "padding_side" (S25 review, finding 2): transformers honours both and
// tessera read neither, so a "truncation_side": "left" pipeline got the prompt's first tokens where WanPipeline keeps
// its last (prompt_embeds rel 1.33 off) and a note saying the last were dropped, and "padding_side": "left" got right
// padding (negative_prompt_embeds rel 1.87). Left truncation is now done as transformers does it (golden: trunc_left,
// made by make_tokenizer_sides_case.py with the real tokenizer; its embeddings in umt5-ref.test.ts), left padding is
// refused in one line (WanPipeline's result with it keeps the pad tokens' rows), and other values are refused.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapFolder } from '../../src/io/source.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { Umt5TextEncoder } from '../../src/text/prompt-encoder.js';
import { loadTokenizer, TokenizerError } from '../../src/text/tokenizer.js';
import type { Umt5Encoder } from '../../src/text/umt5.js';
import { FIXTURES } from '../helpers/golden.js';

const CASE = join(FIXTURES, 'umt5', 'trunc_left');
const TOK = join(CASE, 'pipeline', 'tokenizer');
const meta = JSON.parse(readFileSync(join(CASE, 'case.json'), 'utf8')) as { prompt: string; max_sequence_length: number; token_ids: number[][]; rows: { text: string; max_length: number; ids: number[]; mask: number[] }[] };

/** The trunc_left tokenizer folder in memory with tokenizer_config.json's keys set to `set`. */
function withConfig(set: Record<string, unknown>) {
  const cfg = { ...JSON.parse(readFileSync(join(TOK, 'tokenizer_config.json'), 'utf8')), ...set };
  const enc = new TextEncoder();
  return mapFolder('pipe/tokenizer', new Map([
    ['tokenizer.json', readFileSync(join(TOK, 'tokenizer.json'))],
    ['tokenizer_config.json', enc.encode(JSON.stringify(cfg))],
  ]));
}

describe('truncation_side "left"', async () => {
  const tok = await loadTokenizer(nodeFolder(TOK));
  it('gives the transformers ids and lengths (first text tokens dropped, "</s>" kept last)', () => {
    expect(tok.truncationSide).toBe('left');
    for (const r of meta.rows) {
      const b = tok.tokenize([r.text], r.max_length);
      expect([...b.ids], `${JSON.stringify(r.text)} @ ${r.max_length}`).toEqual(r.ids);
      expect(b.lengths[0]).toBe(r.mask.reduce((a, v) => a + v, 0));
    }
    expect([...tok.tokenize([meta.prompt], meta.max_sequence_length).ids]).toEqual(meta.token_ids.flat());
  });
  it('"right" (or no key) keeps the first tokens', async () => {
    for (const t of [await loadTokenizer(withConfig({ truncation_side: 'right' })), await loadTokenizer(withConfig({ truncation_side: undefined }))]) {
      expect(t.truncationSide).toBe('right');
      const ids = [...t.tokenize([meta.prompt], 16).ids];
      expect(ids.slice(0, 15)).toEqual(t.encode(meta.prompt, 64).slice(0, 15));
      expect(ids).not.toEqual(meta.token_ids.flat());
    }
  });
  it('the cut note says the first tokens were dropped and the encoder sees the last ones', () => {
    const enc = new Umt5TextEncoder(tok, { folder: { name: 'te' } } as unknown as Umt5Encoder, false);
    const n = tok.textTokens(meta.prompt);
    expect(enc.promptNotes([meta.prompt], 16, () => 'prompt')).toEqual([{ kind: 'cut', prompt: meta.prompt, line: `note: prompt has ${n + 1} tokens, more than max_sequence_length 16: its first ${n - 15} tokens were dropped (the encoder sees the last 15 and the end token)` }]);
  });
});

describe('tokenizer_config sides refused in one line naming the file and key', () => {
  it('padding_side "left": WanPipeline would keep the pad tokens\' rows', async () => {
    await expect(loadTokenizer(withConfig({ padding_side: 'left' }))).rejects.toThrow(new TokenizerError('pipe/tokenizer/tokenizer_config.json: "padding_side": "left" is not supported: WanPipeline keeps each prompt\'s first rows of the encoder\'s output, which with left padding are the pad tokens\' rows, not the prompt\'s; set it to "right" (the T5/UMT5 default)'));
    expect((await loadTokenizer(withConfig({ padding_side: 'right' }))).padId).toBe(0);
  });
  it('a value other than "left" or "right"', async () => {
    await expect(loadTokenizer(withConfig({ truncation_side: 'middle' }))).rejects.toThrow(new TokenizerError('pipe/tokenizer/tokenizer_config.json: "truncation_side" must be "left" or "right", found "middle"'));
    await expect(loadTokenizer(withConfig({ padding_side: null }))).rejects.toThrow(/tokenizer_config\.json: "padding_side" must be "left" or "right", found null$/);
  });
});
