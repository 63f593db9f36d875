// generate --help says a pipeline folder given by path takes none of the embedded pipeline's defaults (a user who
// copied models/tessera-shapes to edit its scheduler_config.json lost seed 0 and 9×32×32 without a word), and the
// refusal it describes holds; demo --help says its defaults still apply to --pipeline (user21 finding 8).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { demoCommand } from '../../src/cli/cmd-demo.js';
import { generateCommand } from '../../src/cli/cmd-generate.js';
import { tesseraCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-pipeline-by-path-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('generate --pipeline: the help says a folder by path takes no embedded defaults, and it is so', async () => {
  expect(generateCommand.spec.flags!.pipeline!.help).toMatch(/A folder given by path, a copy of models\/tessera-shapes too, takes none of the embedded pipeline's defaults \(seed, size, steps, prompt\)/);
  const r = await tesseraCli(['generate', '--pipeline', join(ROOT, 'models', 'tessera-shapes'), '--prompt', 'a red circle moving left', '--frames', '9', '--out', join(tmp, 'p.safetensors')]);
  expect(r.stderr).toMatch(/UsageError: give --inputs FILE, or --seed N with --height\/--width in pixels/);
  expect(r.code).toBe(2);
}, 60_000);

it('demo --pipeline: the help says the demo defaults still apply', () => {
  expect(demoCommand.spec.flags!.pipeline!.help).toMatch(/the demo's defaults \(prompt, seed 0, steps, size\) still apply to it/);
});
