// The embedded tessera-shapes pipeline (models/tessera-shapes, issue 12): its vocabulary is the one
// training/data.py trains on, the folder is a WanPipeline of the classes real Wan uses within the
// 20 MB budget, and prompts outside the vocabulary get the note (they still run).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_VOCABULARY, embeddedPipelineDir, embeddedSizeNote, outOfVocabulary, vocabularyNote } from '../../src/cli/embedded.js';
import { ROOT } from '../helpers/golden.js';
import { loadTokenizer } from '../../src/text/tokenizer.js';
import { nodeFolder } from '../../src/io/node-source.js';

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

  it('prompts outside the vocabulary: the unknown words as the tokenizer sees them (case and punctuation kept), and a note', () => {
    expect(outOfVocabulary('a red circle moving right')).toEqual([]);
    expect(outOfVocabulary('  a  red\tcircle moving right ')).toEqual([]); // prompt_clean collapses whitespace
    expect(outOfVocabulary('A Cyan Triangle, moving DOWN!')).toEqual(['A', 'Cyan', 'Triangle,', 'DOWN!']);
    expect(outOfVocabulary('a purple dog moving right')).toEqual(['purple', 'dog']);
    expect(vocabularyNote('a red circle moving right')).toBeUndefined();
    expect(vocabularyNote('an astronaut riding a horse')).toMatch(/trained only on prompts "a \{colour\} \{shape\} moving \{direction\}".*does not know: an, astronaut, riding, horse\. It still runs\./);
    expect(vocabularyNote('')).toMatch(/trained only on/);
    const v = 'colours red, green, blue, yellow, white, magenta, cyan; shapes circle, square, triangle; directions left, right, up, down';
    const head = `note: the embedded model (tessera-shapes) was trained only on prompts "a {colour} {shape} moving {direction}", lower-case without punctuation — ${v}`;
    const cased = '(its tokenizer keeps capitals and punctuation, so as written they are tokens it never saw)';
    expect(vocabularyNote('A Red Circle Moving Right')).toBe(`${head}; it knows "A", "Red", "Circle", "Moving", "Right" only in lower case without punctuation ${cased}: give "a red circle moving right". It still runs.`);
    expect(vocabularyNote('a cyan triangle, moving DOWN!')).toBe(`${head}; it knows "triangle,", "DOWN!" only in lower case without punctuation ${cased}: give "a cyan triangle moving down". It still runs.`);
    // unknown words too: no prompt to suggest
    expect(vocabularyNote('A purple dog')).toBe(`${head}; it does not know: purple, dog; it knows "A" only in lower case without punctuation ${cased}. It still runs.`);
  });

  // the vocabulary check agrees with the tokenizer the pipeline really runs (tokenizer/tokenizer.json)
  it('a prompt has no unknown words exactly when every token is a word piece the model was trained on', async () => {
    const tok = await loadTokenizer(nodeFolder(join(embeddedPipelineDir(), 'tokenizer')));
    const words = ['a', 'moving', ...EMBEDDED_VOCABULARY.colours, ...EMBEDDED_VOCABULARY.shapes, ...EMBEDDED_VOCABULARY.directions];
    const trained = new Set(words.map((w) => tok.encode(`${w}`, 8)[0]));
    expect(trained.size).toBe(words.length); // one token each
    const prompts = [
      'a red circle moving right', 'A Red Circle Moving Right', 'a red circle moving right.', 'a red circle, moving right', 'a RED circle moving left',
      '  a  green\tsquare   moving up ', 'ａ blue triangle moving down', 'a white square moving &amp; down', 'a purple dog moving right', 'a magenta circle moving 2 left', 'red',
    ];
    for (const p of prompts) {
      const { ids, lengths } = tok.tokenize([p], 64);
      const content = [...ids.subarray(0, lengths[0]! - tok.specialCount)];
      expect(outOfVocabulary(p).length === 0, `${JSON.stringify(p)}: tokens ${content.join(',')}`).toBe(content.every((id) => trained.has(id)));
    }
  });

  it('a frame size other than the trained 32×32: one note (user24 #3), none at that size', () => {
    expect(embeddedSizeNote(32, 32)).toBeUndefined(); // (frames are not an argument: tests/integration/cli-ux.test.ts runs --frames 1 without the note)
    expect(embeddedSizeNote(128, 128)).toBe('note: the embedded model (tessera-shapes) saw only 32×32 frames in training; at 128×128 it still runs, but the clip is not likely to show the prompt');
    for (const [h, w] of [[32, 48], [16, 16], [48, 32]]) expect(embeddedSizeNote(h, w)).toMatch(new RegExp(`at ${h}×${w} it still runs`));
  });
});
