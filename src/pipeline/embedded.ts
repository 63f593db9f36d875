// What is known of the embedded tessera-shapes pipeline (models/tessera-shapes, training/): its vocabulary
// (training/data.py), the note for prompts outside it, and its defaults. Browser-safe: the CLI
// (src/cli/embedded.ts finds the folder) and the profiler page share it.

/** The vocabulary the model was trained on (training/data.py): "a {colour} {shape} moving {direction}". */
export const EMBEDDED_VOCABULARY = {
  colours: ['red', 'green', 'blue', 'yellow', 'white', 'magenta', 'cyan'],
  shapes: ['circle', 'square', 'triangle'],
  directions: ['left', 'right', 'up', 'down'],
} as const;

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

/**
 * Defaults of the embedded pipeline: the clip size it was trained on; 20 UniPC steps (diffusers' WanPipeline
 * default is 50; training/evaluate.py judged the model at 20) and WanPipeline's guidance 5 and max_sequence_length 512.
 */
export const EMBEDDED_DEFAULTS = { prompt: 'a red circle moving right', height: 32, width: 32, num_frames: 9, num_inference_steps: 20, guidance_scale: 5 } as const;
