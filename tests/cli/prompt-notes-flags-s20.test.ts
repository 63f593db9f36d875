// The prompt notes (a prompt cut by --max-sequence-length, an empty prompt) name the flags on the command line:
// `note: --prompt …`, `note: --negative-prompt …` (they said `prompt` / `negative_prompt`, generate()'s option names,
// which the library keeps: tests/pipeline/prompt-notes-s19.test.ts). One seeded 1-step, 1-frame run of the embedded
// pipeline, in-process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraInProcess } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-notes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasGpu)('generate: prompt notes in flag words', () => {
  it('an empty --prompt and a --negative-prompt cut at --max-sequence-length 4', async () => {
    const r = await tesseraInProcess(['generate', '--prompt', '', '--negative-prompt', 'a blue square moving up and down', '--max-sequence-length', '4', '--steps', '1', '--frames', '1', '--seed', '0', '--quiet', '--out', join(dir, 'o.safetensors')]);
    expect(r.code).toBe(0);
    // (the embedded pipeline's vocabulary note aside)
    const notes = r.stderr.split('\n').filter((l) => l.startsWith('note: ') && !l.includes('the embedded model'));
    expect(notes).toEqual([
      'note: --prompt is empty: the text encoder sees only its end token, so the video follows no text (as an unconditional one)',
      'note: --negative-prompt has 10 tokens, more than --max-sequence-length 4: its last 6 tokens were dropped (the encoder sees the first 3 and the end token)',
    ]);
  }, 120_000);
});
