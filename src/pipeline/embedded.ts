// What is known of the embedded tessera-shapes pipeline (models/tessera-shapes, training/): its vocabulary
// (training/data.py), the note for prompts outside it, and its defaults. Browser-safe: the CLI
// (src/cli/embedded.ts finds the folder) and the profiler page share it.
import { hasControlChars, visibleText } from '../io/json.js';
import { promptClean } from '../text/prompt.js';

/** The vocabulary the model was trained on (training/data.py): "a {colour} {shape} moving {direction}". */
export const EMBEDDED_VOCABULARY = {
  colours: ['red', 'green', 'blue', 'yellow', 'white', 'magenta', 'cyan'],
  shapes: ['circle', 'square', 'triangle'],
  directions: ['left', 'right', 'up', 'down'],
} as const;

const KNOWN_WORDS = new Set<string>(['a', 'moving', ...EMBEDDED_VOCABULARY.colours, ...EMBEDDED_VOCABULARY.shapes, ...EMBEDDED_VOCABULARY.directions]);

/**
 * The words of `prompt` as the embedded pipeline's tokenizer sees them: after WanPipeline's prompt_clean
 * (HTML unescaped, whitespace runs → one space, stripped) and the tokenizer's normalizer (NFKC, runs of
 * spaces → one), split at spaces as its Metaspace pre-tokenizer does. Case and punctuation are kept: the
 * tokenizer keeps them too.
 */
function tokenizerWords(prompt: string): string[] {
  return promptClean(prompt).normalize('NFKC').split(/ +/).filter((w) => w.length > 0);
}

/**
 * Words of `prompt` the embedded model was not trained on, as its tokenizer sees them (case and
 * punctuation kept, split at whitespace): each must be one of the vocabulary's lower-case words exactly.
 * The tokenizer keeps case and punctuation, so "Red" or "red," is not the token ▁red the model learned
 * but character tokens it never saw (R, e, d; ▁red and ","). Each word once, in prompt order; an empty
 * list means every token of the prompt is a word the model was trained on (their order is not checked).
 * @example outOfVocabulary('A Cyan triangle moving down!') // ['A', 'Cyan', 'down!']
 */
export function outOfVocabulary(prompt: string): string[] {
  return [...new Set(tokenizerWords(prompt).filter((w) => !KNOWN_WORDS.has(w)))];
}

/** A word without its case and punctuation (letters a–z only, lower-cased): "Red," → "red". */
const plainWord = (w: string) => w.toLowerCase().replace(/[^a-z]+/g, '');

/** A prompt word as the note shows it: quoted, control characters escaped (`"right\u0007"`). */
const quoted = (w: string) => visibleText(JSON.stringify(w));

/**
 * The note printed for prompts outside the vocabulary (they still run), or undefined when every word is
 * one the model was trained on. Names the words it does not know, and apart from them the words written
 * with capitals, punctuation or control characters (which its tokenizer keeps), with the prompt in the
 * trained form when that is all that is wrong. Words are echoed with control characters escaped
 * (ESC as \u001b), so a prompt cannot drive the terminal the note is printed on.
 */
export function vocabularyNote(prompt: string): string | undefined {
  const unknown = outOfVocabulary(prompt);
  if (unknown.length === 0 && prompt.trim() !== '') return undefined;
  const v = EMBEDDED_VOCABULARY;
  // known words written otherwise ("Red", "right."), and words it does not know at all
  const written = unknown.filter((w) => KNOWN_WORDS.has(plainWord(w)));
  const alien = unknown.filter((w) => !written.includes(w));
  const plain = tokenizerWords(prompt).map(plainWord).filter((w) => w.length > 0).join(' ');
  // a control character is named as one, not as punctuation
  const control = written.some(hasControlChars);
  const notes = [
    alien.length ? `it does not know: ${alien.map(visibleText).join(', ')}` : '',
    written.length
      ? `it knows ${written.map(quoted).join(', ')} only in lower case without punctuation${control ? ' or control characters' : ''} (its tokenizer keeps capitals${control ? ', punctuation and control characters' : ' and punctuation'}, so as written they are tokens it never saw)${alien.length ? '' : `: give "${plain}"`}`
      : '',
  ].filter((n) => n);
  return `note: the embedded model (tessera-shapes) was trained only on prompts "a {colour} {shape} moving {direction}", lower-case without punctuation — colours ${v.colours.join(', ')}; shapes ${v.shapes.join(', ')}; directions ${v.directions.join(', ')}${notes.map((n) => `; ${n}`).join('')}. It still runs.`;
}

/**
 * Defaults of the embedded pipeline (what `tessera generate` without --pipeline uses): `prompt`, a prompt of its
 * vocabulary (EMBEDDED_VOCABULARY); `height`, `width` (32 px) and `num_frames` (9), the clip size it was trained on;
 * `num_inference_steps` 20 UniPC steps (diffusers' WanPipeline default is 50; training/evaluate.py judged the model
 * at 20); `guidance_scale` 5, WanPipeline's. There is no max_sequence_length here: Pipeline.generate's default
 * (512, WanPipeline's) applies.
 */
export const EMBEDDED_DEFAULTS = { prompt: 'a red circle moving right', height: 32, width: 32, num_frames: 9, num_inference_steps: 20, guidance_scale: 5 } as const;

/**
 * The note for a frame size other than the one the embedded model was trained at (EMBEDDED_DEFAULTS: 32×32), or
 * undefined at that size. Other sizes run (its RoPE and patching take any valid size), but a model this small learned
 * one canvas: at 128×128 it draws repeated dots, not the prompt (user24 #3). The frame count is not noted: fewer
 * frames (1 for a quick look) keep the canvas it knows. `height`, `width`: output pixels, as the CLI's flags and
 * Pipeline.generate's height/width.
 */
export function embeddedSizeNote(height: number, width: number): string | undefined {
  const d = EMBEDDED_DEFAULTS;
  if (height === d.height && width === d.width) return undefined;
  return `note: the embedded model (tessera-shapes) saw only ${d.height}×${d.width} frames in training; at ${height}×${width} it still runs, but the clip is not likely to show the prompt`;
}
