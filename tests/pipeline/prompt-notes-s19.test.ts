// A prompt cut at max_sequence_length was cut without a word (`generate --prompt "a red circle moving right"
// --max-sequence-length 4`: exit 0, no note), and an empty prompt got only the demo's generic vocabulary note.
// Pipeline.generate's checks now send a note per such prompt to onWarning (console.warn without one: what the CLI
// prints): how many tokens were dropped, or that an empty prompt leaves the video to follow no text. The default
// empty negative prompt says nothing.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadPipeline, pipelineInternals, type Pipeline } from '../../src/pipeline/pipeline.js';
import { Umt5TextEncoder } from '../../src/text/prompt-encoder.js';
import { loadTokenizer } from '../../src/text/tokenizer.js';
import type { Umt5Encoder } from '../../src/text/umt5.js';
import { flagNames } from '../../src/cli/errors.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');
const CUT = 'note: prompt has 6 tokens, more than max_sequence_length 4: its last 2 tokens were dropped (the encoder sees the first 3 and the end token)';
const EMPTY = 'note: prompt is empty: the text encoder sees only its end token, so the video follows no text (as an unconditional one)';

describe('Umt5TextEncoder.promptNotes (the tokenizer alone)', () => {
  it('a cut prompt says how many tokens were dropped; an empty one that it follows no text; one at the length nothing', async () => {
    const tok = await loadTokenizer(nodeFolder(join(DIR, 'tokenizer')));
    const enc = new Umt5TextEncoder(tok, { folder: { name: 'te' } } as unknown as Umt5Encoder, false);
    const name = (i: number) => `prompt[${i}]`;
    // "a red circle moving right": 5 tokens and "</s>"
    expect(enc.promptNotes(['a red circle moving right'], 6, name)).toEqual([]);
    // each note with its kind, so the pipeline picks them without matching their words
    expect(enc.promptNotes(['a red circle moving right'], 5, name)).toEqual([{ kind: 'cut', prompt: 'a red circle moving right', line: 'note: prompt[0] has 6 tokens, more than max_sequence_length 5: its last token was dropped (the encoder sees the first 4 and the end token)' }]);
    expect(enc.promptNotes(['a red circle moving right', '  ', 'a red circle moving right'], 4, name)).toEqual([
      { kind: 'cut', prompt: 'a red circle moving right', line: CUT.replace('prompt has', 'prompt[0] has') },
      { kind: 'empty', prompt: '  ', line: EMPTY.replace('prompt is', 'prompt[1] is') },
    ]);
  });
});

describe('the CLI prints the notes in flag words (generate --pipeline and demo pass onWarning: warnInFlagWords)', () => {
  it('max_sequence_length N is --max-sequence-length N; prompt and negative_prompt are --prompt and --negative-prompt', () => {
    expect(flagNames(CUT)).toBe('note: --prompt has 6 tokens, more than --max-sequence-length 4: its last 2 tokens were dropped (the encoder sees the first 3 and the end token)');
    expect(flagNames(CUT.replace('prompt has', 'negative_prompt has'))).toBe('note: --negative-prompt has 6 tokens, more than --max-sequence-length 4: its last 2 tokens were dropped (the encoder sees the first 3 and the end token)');
    expect(flagNames(EMPTY)).toBe('note: --prompt is empty: the text encoder sees only its end token, so the video follows no text (as an unconditional one)');
  });
});

describe.skipIf(!hasGpu)('Pipeline.generate: the notes go to onWarning in the checks', () => {
  let pipe: Pipeline;
  const lines: string[] = [];
  beforeAll(async () => {
    pipe = await loadPipeline(DIR, { gpu: gpu!, onWarning: (l) => void lines.push(l) });
  }, 120_000);
  afterAll(() => pipe?.dispose());

  it('prompt cut at 4, and an empty prompt; the default "" negative prompt says nothing', async () => {
    const call = { height: 32, width: 32, num_frames: 9, num_inference_steps: 1, guidance_scale: 5 };
    lines.length = 0;
    await pipelineInternals(pipe).checkGenerate({ ...call, prompt: 'a red circle moving right', max_sequence_length: 4 });
    expect(lines).toEqual([CUT]);
    lines.length = 0;
    await pipelineInternals(pipe).checkGenerate({ ...call, prompt: '' });
    expect(lines).toEqual([EMPTY]);
    lines.length = 0;
    await pipelineInternals(pipe).checkGenerate({ ...call, prompt: 'a red circle moving right' });
    expect(lines).toEqual([]);
    // a negative prompt: cut, a note; empty (given or the default), none
    await pipelineInternals(pipe).checkGenerate({ ...call, prompt: 'a circle', negative_prompt: 'a red circle moving right', max_sequence_length: 4 });
    expect(lines).toEqual([CUT.replace('prompt has', 'negative_prompt has')]);
    lines.length = 0;
    await pipelineInternals(pipe).checkGenerate({ ...call, prompt: 'a circle', negative_prompt: '' });
    expect(lines).toEqual([]);
  }, 120_000);

  it('each note once per Pipeline, prompt and line: a repeated call says nothing again; another prompt cut the same is said (session 23 library review #4)', async () => {
    const call = { height: 32, width: 32, num_frames: 9, num_inference_steps: 1, guidance_scale: 5, max_sequence_length: 4 };
    lines.length = 0;
    // 'a blue square moving left': 5 tokens and "</s>", cut at 4 as CUT's prompt is (the same line, another prompt)
    for (let i = 0; i < 3; i++) await pipelineInternals(pipe).checkGenerate({ ...call, prompt: 'a blue square moving left' });
    expect(lines).toEqual([CUT]);
    await pipelineInternals(pipe).checkGenerate({ ...call, prompt: 'a blue square moving left' });
    await pipelineInternals(pipe).checkGenerate({ ...call, prompt: 'a blue square moving left', max_sequence_length: 5 });
    expect(lines).toEqual([CUT, CUT.replace('6 tokens, more than max_sequence_length 4: its last 2 tokens were dropped (the encoder sees the first 3', '6 tokens, more than max_sequence_length 5: its last token was dropped (the encoder sees the first 4')]);
  }, 120_000);
});
