// The float64 UMT5 reference (src/ref/umt5.ts) against the real library: bucket tables from
// transformers' _relative_position_bucket (incl. the released 32/128 setting), and whole-encoder
// outputs from the fixtures made by make_umt5_cases.py (transformers + diffusers in float64).
// This pins the reference the GPU tests compare with.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInputs } from '../../src/io/inputs.js';
import { openModelFolder } from '../../src/io/model-folder.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { relativePositionBucket, umt5EncoderRef } from '../../src/ref/umt5.js';
import { parseUmt5Config } from '../../src/text/config.js';
import { loadTokenizer } from '../../src/text/tokenizer.js';
import { FIXTURES } from '../helpers/golden.js';

const DIR = join(FIXTURES, 'umt5');

describe('relativePositionBucket', () => {
  const t = JSON.parse(readFileSync(join(DIR, 'buckets.json'), 'utf8')) as { configs: { num_buckets: number; max_distance: number; from: number; runs: [number, number][] }[] };
  for (const c of t.configs) {
    it(`matches transformers for ${c.num_buckets} buckets, max_distance ${c.max_distance}, rel ${c.from}..${-c.from}`, () => {
      const want = c.runs.flatMap(([v, n]) => Array<number>(n).fill(v));
      const got = want.map((_, i) => relativePositionBucket(c.from + i, c.num_buckets, c.max_distance));
      expect(got).toEqual(want);
    });
  }
});

export const REF_CASES = ['buckets', 'truncneg', 'negdefault', 'sharded_bf16', 'long', 'trunc_left'];

describe('umt5EncoderRef', () => {
  for (const name of REF_CASES) {
    it(`reproduces ${name} (prompt embeddings, zero past the prompt)`, async () => {
      const cd = join(DIR, name);
      const meta = JSON.parse(readFileSync(join(cd, 'case.json'), 'utf8'));
      const folder = await openModelFolder(nodeFolder(join(cd, 'pipeline', 'text_encoder')), { library: 'transformers' });
      const cfg = parseUmt5Config(folder.config);
      const w = new Map<string, Float32Array>();
      for (const k of folder.tensors.keys()) w.set(k, await folder.readF32(k));
      await folder.close();
      const tok = await loadTokenizer(nodeFolder(join(cd, 'pipeline', 'tokenizer')));
      const exp = await readInputs(join(cd, 'expected.safetensors'));
      const prompts: [string, string[]][] = [['prompt_embeds', typeof meta.prompt === 'string' ? [meta.prompt] : meta.prompt]];
      if (meta.negative_prompt !== null) prompts.push(['negative_prompt_embeds', [meta.negative_prompt === '<default>' ? '' : meta.negative_prompt]]);
      for (const [key, ps] of prompts) {
        const b = tok.tokenize(ps, meta.max_sequence_length);
        if (key === 'prompt_embeds') expect([...b.ids]).toEqual(meta.token_ids.flat());
        const y = umt5EncoderRef({ ...cfg }, (k) => w.get(k)!, b.ids, b.lengths);
        const e = exp.get(key)!;
        expect(e.shape).toEqual([ps.length, meta.max_sequence_length, cfg.dModel]);
        let err = 0;
        let mx = 0;
        for (let i = 0; i < y.length; i++) {
          err = Math.max(err, Math.abs(y[i]! - e.f32![i]!));
          mx = Math.max(mx, Math.abs(e.f32![i]!));
        }
        // float64 vs float64 stored as f32: only the f32 rounding of the expected file remains
        expect(err / mx, `${name} ${key}`).toBeLessThan(1e-6);
      }
    });
  }
});
