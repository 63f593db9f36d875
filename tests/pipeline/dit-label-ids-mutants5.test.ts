// Mutation round 5 (session 18) on DiTPipeline.get_label_ids (src/pipeline/pipeline.ts): the refusals and the
// closest-name list the existing test left open. A key that is a number but not a class id ('-1', '1e3'), an entry
// that is not a string, a label that is not a string: one line each, not a wrong id or a TypeError. The closest
// names ignore case and include the names a longer label holds.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { InputError } from '../../src/model/model.js';
import { loadPipeline, PipelineError, type Pipeline } from '../../src/pipeline/pipeline.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIT = join(FIXTURES, 'dit_pipeline', 'pipeline');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-dit-labels5-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** The DiT fixture with `id2label` written into its model_index.json, loaded; `fn` gets the pipeline and the file. */
async function withLabels(id2label: unknown, fn: (pipe: Pipeline, file: string) => void): Promise<void> {
  const dir = join(tmp, `labels-${n++}`);
  cpSync(DIT, dir, { recursive: true });
  const f = join(dir, 'model_index.json');
  writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(f, 'utf8')), id2label }));
  const pipe = await loadPipeline(dir, { gpu: gpu! });
  try {
    fn(pipe, f);
  } finally {
    pipe.dispose();
  }
}

const ID2LABEL = { '0': 'tench, Tinca tinca', '207': 'golden retriever', '208': 'Labrador retriever', '281': 'tabby, tabby cat' };

describe.skipIf(!hasGpu)('get_label_ids: refusals and closest names', () => {
  it('a key that is not a whole number (-1, 1e3) and an entry that is not a string: one PipelineError line', async () => {
    for (const k of ['-1', '1e3']) {
      await withLabels({ ...ID2LABEL, [k]: 'kitten' }, (pipe, f) => {
        expect(() => pipe.get_label_ids(['kitten'])).toThrow(new PipelineError(`${f}: id2label key ${JSON.stringify(k)} is not a class id (a whole number)`));
      });
    }
    await withLabels({ ...ID2LABEL, '3': ['kitten', 'cat'] }, (pipe, f) => {
      expect(() => pipe.get_label_ids(['tabby'])).toThrow(PipelineError);
      expect(() => pipe.get_label_ids(['tabby'])).toThrow(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: id2label "3" must be a string of label names, found `));
    });
  });

  it('a label that is not a string: an InputError naming its place', async () => {
    await withLabels(ID2LABEL, (pipe) => {
      expect(() => pipe.get_label_ids(['tabby', 207 as never])).toThrow(new InputError('get_label_ids: label[1] is not a string: 207'));
    });
  });

  it('closest names: in any case, and the names a longer label holds', async () => {
    await withLabels(ID2LABEL, (pipe, f) => {
      const closest = (label: string) => {
        try {
          pipe.get_label_ids([label]);
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          return /; closest: (.*)$/.exec((e as Error).message)?.[1] ?? '';
        }
        throw new Error(`${label}: no refusal`);
      };
      // ignoring case: RETRIEVER is held by both retrievers
      expect(closest('RETRIEVER').split(', ').sort()).toEqual(['"Labrador retriever"', '"golden retriever"']);
      // a label holding names: both of 281's names are in 'a tabby cat kitten'
      expect(closest('a tabby cat kitten').split(', ').sort()).toEqual(['"tabby cat"', '"tabby"']);
      expect(() => pipe.get_label_ids(['Tabby'])).toThrow(`get_label_ids: "Tabby" is not a label of ${f}'s id2label (6 names); closest: `);
    });
  });
});
