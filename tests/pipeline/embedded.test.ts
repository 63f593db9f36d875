// The embedded tessera-shapes pipeline (models/tessera-shapes, issue 12): its vocabulary is the one
// training/data.py trains on, the folder is a WanPipeline of the classes real Wan uses within the
// 20 MB budget, and prompts outside the vocabulary get the note (they still run).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_VOCABULARY, embeddedPipelineDir, outOfVocabulary, vocabularyNote } from '../../src/cli/embedded.js';
import { ROOT } from '../helpers/golden.js';

const py = readFileSync(join(ROOT, 'training', 'data.py'), 'utf8');

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? folderBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

describe('embedded pipeline', () => {
  it('vocabulary = training/data.py (colours, shapes, directions)', () => {
    const palette = [...py.matchAll(/^ {4}"(\w+)": \(\d/gm)].map((m) => m[1]);
    expect(palette).toEqual([...EMBEDDED_VOCABULARY.colours]);
    expect(py).toContain(`SHAPES = (${EMBEDDED_VOCABULARY.shapes.map((s) => `"${s}"`).join(', ')})`);
    const dirs = [...py.matchAll(/"(left|right|up|down)": \(-?\d, -?\d\)/g)].map((m) => m[1]);
    expect(dirs).toEqual([...EMBEDDED_VOCABULARY.directions]);
  });

  it('is a WanPipeline folder with the classes real Wan2.1 uses, ≤ 20 MB', () => {
    const dir = embeddedPipelineDir();
    const mi = JSON.parse(readFileSync(join(dir, 'model_index.json'), 'utf8'));
    expect(mi._class_name).toBe('WanPipeline');
    expect(mi.transformer).toEqual(['diffusers', 'WanTransformer3DModel']);
    expect(mi.vae).toEqual(['diffusers', 'AutoencoderKLWan']);
    expect(mi.text_encoder).toEqual(['transformers', 'UMT5EncoderModel']);
    expect(mi.scheduler).toEqual(['diffusers', 'UniPCMultistepScheduler']);
    const sch = JSON.parse(readFileSync(join(dir, 'scheduler', 'scheduler_config.json'), 'utf8'));
    expect(sch).toMatchObject({ prediction_type: 'flow_prediction', use_flow_sigmas: true, flow_shift: 3, solver_order: 2, solver_type: 'bh2', predict_x0: true });
    const tok = JSON.parse(readFileSync(join(dir, 'tokenizer', 'tokenizer.json'), 'utf8'));
    expect(tok.model.type).toBe('Unigram');
    const pieces = new Set(tok.model.vocab.map((v: [string, number]) => v[0]));
    for (const w of ['a', 'moving', ...EMBEDDED_VOCABULARY.colours, ...EMBEDDED_VOCABULARY.shapes, ...EMBEDDED_VOCABULARY.directions]) expect(pieces.has(`\u2581${w}`)).toBe(true);
    expect(folderBytes(dir)).toBeLessThanOrEqual(20 * 1024 * 1024);
  });

  it('prompts outside the vocabulary: the unknown words, and a note', () => {
    expect(outOfVocabulary('a red circle moving right')).toEqual([]);
    expect(outOfVocabulary('A Cyan Triangle, moving DOWN!')).toEqual([]);
    expect(outOfVocabulary('a purple dog moving right')).toEqual(['purple', 'dog']);
    expect(vocabularyNote('a red circle moving right')).toBeUndefined();
    expect(vocabularyNote('an astronaut riding a horse')).toMatch(/trained only on prompts "a \{colour\} \{shape\} moving \{direction\}".*does not know: an, astronaut, riding, horse\. It still runs\./);
    expect(vocabularyNote('')).toMatch(/trained only on/);
  });
});
