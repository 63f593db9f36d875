// DiTPipeline.get_label_ids (a fresh user's list, session 16): diffusers maps ImageNet label names to class ids
// through model_index.json's id2label; tessera had no way to, so a user looked ids up by hand. Now
// pipe.get_label_ids(['golden retriever']) gives [207] (every comma-separated name of an entry, trimmed); an
// unknown name is one InputError line with the closest names; a folder without id2label, or a pipeline other
// than DiTPipeline, says so in one line.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { InputError } from '../../src/model/model.js';
import { loadPipeline, PipelineError } from '../../src/pipeline/pipeline.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIT = join(FIXTURES, 'dit_pipeline', 'pipeline');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-dit-labels-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The DiT fixture with `id2label` written into its model_index.json. */
function withLabels(id2label: unknown): string {
  const dir = join(tmp, `labels-${Math.random().toString(36).slice(2)}`);
  cpSync(DIT, dir, { recursive: true });
  const f = join(dir, 'model_index.json');
  writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(f, 'utf8')), id2label }));
  return dir;
}

const ID2LABEL = { '0': 'tench, Tinca tinca', '1': 'goldfish, Carassius auratus', '207': 'golden retriever', '208': 'Labrador retriever', '281': 'tabby, tabby cat' };

describe.skipIf(!hasGpu)('DiTPipeline get_label_ids', () => {
  it('maps every comma-separated name to its id, in order; an unknown name names the closest ones', async () => {
    const dir = withLabels(ID2LABEL);
    const pipe = await loadPipeline(dir, { gpu: gpu! });
    try {
      expect(pipe.get_label_ids(['golden retriever', 'tabby cat', 'tabby', 'Tinca tinca', 'goldfish'])).toEqual([207, 281, 281, 0, 1]);
      expect(pipe.get_label_ids('Labrador retriever')).toEqual([208]);
      const e = (() => {
        try {
          pipe.get_label_ids(['golden retriever', 'golden retreiver']);
        } catch (x) {
          return x as Error;
        }
      })()!;
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toBe(`get_label_ids: "golden retreiver" is not a label of ${dir}/model_index.json's id2label (8 names); closest: "golden retriever"`);
      expect(() => pipe.get_label_ids(['retriever'])).toThrow(new InputError(`get_label_ids: "retriever" is not a label of ${dir}/model_index.json's id2label (8 names); closest: "golden retriever", "Labrador retriever"`));
      expect(() => pipe.get_label_ids([])).toThrow(/^get_label_ids: a label name or a non-empty list of them/);
      // the ids drive generate() as diffusers' class_labels
      const out = await pipe.generate({ class_labels: pipe.get_label_ids(['tabby']), seed: 0, num_inference_steps: 1, output_type: 'latent' });
      expect(out.latents.data.every(Number.isFinite)).toBe(true);
    } finally {
      pipe.dispose();
    }
  });

  it('a folder without id2label, a malformed one and a pipeline that is not DiT say so in one line', async () => {
    const plain = await loadPipeline(DIT, { gpu: gpu! });
    try {
      expect(() => plain.get_label_ids(['tabby'])).toThrow(new PipelineError(`get_label_ids: ${DIT}/model_index.json has no id2label (the ImageNet class names, as facebook/DiT-XL-2-256's model_index.json holds them); give generate() class_labels as ids instead`));
    } finally {
      plain.dispose();
    }
    const bad = withLabels({ cat: 'tabby' });
    const pb = await loadPipeline(bad, { gpu: gpu! });
    try {
      expect(() => pb.get_label_ids(['tabby'])).toThrow(new PipelineError(`${bad}/model_index.json: id2label key "cat" is not a class id (a whole number)`));
    } finally {
      pb.dispose();
    }
    const wan = await loadPipeline(join(ROOT, 'models', 'tessera-shapes'), { gpu: gpu!, vae: false, textEncoder: false });
    try {
      expect(() => wan.get_label_ids(['tabby'])).toThrow(/^get_label_ids: .* is a WanPipeline; label names map to class ids in DiTPipeline only$/);
    } finally {
      wan.dispose();
    }
  });
});
