// The embedded default pipeline: tessera-shapes (models/tessera-shapes, trained by training/train.py,
// issue 12) — a miniature Wan2.1 pipeline (UMT5 text encoder, WanTransformer3DModel, AutoencoderKLWan,
// UniPC) that makes 9-frame 32×32 clips of a coloured shape moving in a straight line. Used by
// `tessera generate --prompt P` without --pipeline/--model and by `tessera demo`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PipelineError } from '../pipeline/pipeline.js';

/** The vocabulary the model was trained on (training/data.py): "a {colour} {shape} moving {direction}". */
export const EMBEDDED_VOCABULARY = {
  colours: ['red', 'green', 'blue', 'yellow', 'white', 'magenta', 'cyan'],
  shapes: ['circle', 'square', 'triangle'],
  directions: ['left', 'right', 'up', 'down'],
} as const;

/**
 * Defaults of the embedded pipeline: the clip size it was trained on; 20 UniPC steps (diffusers' WanPipeline
 * default is 50; training/evaluate.py judged the model at 20) and WanPipeline's guidance 5 and max_sequence_length 512.
 */
export const EMBEDDED_DEFAULTS = { prompt: 'a red circle moving right', height: 32, width: 32, num_frames: 9, num_inference_steps: 20, guidance_scale: 5 } as const;

/**
 * Folder of the embedded pipeline: `<package root>/models/tessera-shapes` (this file is
 * src/cli/embedded.ts in a checkout and dist/cli/embedded.js in the package: two levels below the root).
 * `packageRoot`: for tests; default the package root above this file.
 * @throws PipelineError when the folder is missing (a package built without models/tessera-shapes).
 */
export function embeddedPipelineDir(packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')): string {
  const dir = join(packageRoot, 'models', 'tessera-shapes');
  if (!existsSync(join(dir, 'model_index.json'))) throw new PipelineError(`${dir}/model_index.json: missing, so there is no embedded pipeline to run (this install lacks models/tessera-shapes): give --pipeline DIR or --model DIR`);
  return dir;
}

/**
 * Words of `prompt` outside the embedded model's vocabulary (lower-cased, split on anything that is not a letter).
 * An empty list means the prompt uses only words the model was trained on (order is not checked).
 */
export function outOfVocabulary(prompt: string): string[] {
  const known = new Set<string>(['a', 'moving', ...EMBEDDED_VOCABULARY.colours, ...EMBEDDED_VOCABULARY.shapes, ...EMBEDDED_VOCABULARY.directions]);
  const words = prompt.toLowerCase().split(/[^a-z]+/).filter((w) => w.length > 0);
  return [...new Set(words.filter((w) => !known.has(w)))];
}

/** The note printed for prompts outside the vocabulary (they still run). */
export function vocabularyNote(prompt: string): string | undefined {
  const unknown = outOfVocabulary(prompt);
  if (unknown.length === 0 && prompt.trim() !== '') return undefined;
  const v = EMBEDDED_VOCABULARY;
  return `note: the embedded model (tessera-shapes) was trained only on prompts "a {colour} {shape} moving {direction}" — colours ${v.colours.join(', ')}; shapes ${v.shapes.join(', ')}; directions ${v.directions.join(', ')}${unknown.length ? `; it does not know: ${unknown.join(', ')}` : ''}. It still runs.`;
}
