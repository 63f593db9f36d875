// tessera encode with a prompt longer than --max-sequence-length says how many tokens were dropped, in the note
// generate gives (Umt5TextEncoder.promptNotes through Pipeline.generate's onWarning); encode called encodePrompt
// directly and said nothing (user21 finding 21). The embedded pipeline's 2-layer, d_model 64 encoder at 8 tokens.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-encode-cut-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it.skipIf(!hasGpu)('encode: a prompt cut at --max-sequence-length gets one note with the dropped count; a short negative prompt none', async () => {
  const out = join(tmp, 'e.safetensors');
  const prompt = 'a red circle moving left over a blue square that grows and shrinks slowly';
  const r = await tesseraCli(['encode', '--pipeline', join(ROOT, 'models', 'tessera-shapes'), '--prompt', prompt, '--negative-prompt', 'blue', '--max-sequence-length', '8', '--out', out], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  const notes = r.stderr.split('\n').filter((l) => l.startsWith('note:'));
  expect(notes).toHaveLength(1);
  expect(notes[0]).toMatch(/^note: --prompt has (\d+) tokens, more than --max-sequence-length 8: its last \d+ tokens were dropped \(the encoder sees the first 7 and the end token\)$/);
  const [, n] = /has (\d+) tokens/.exec(notes[0])!;
  expect(notes[0]).toContain(`its last ${Number(n) - 8} tokens`);
  expect(existsSync(out)).toBe(true);
}, 180_000);
