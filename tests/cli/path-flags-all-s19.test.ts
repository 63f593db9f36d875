// A fresh user's `forward --model nosuch --inputs x.safetensors` was told only of --inputs; the bad --model came out on
// the next try. checkPathFlags (forward, generate, decode, encode, demo, bench: CommandSpec.first) names every bad path
// flag in its one UsageError line, joined by "; "; one bad path reads as before.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError, type Parsed } from '../../src/cli/args.js';
import { checkPathFlags } from '../../src/cli/paths.js';
import { thrown } from '../helpers/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-path-flags-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const missing = join(tmp, 'nosuch');
const file = join(tmp, 'x.safetensors');
writeFileSync(file, '');

describe('checkPathFlags names every bad path flag', () => {
  it('--inputs and --model both missing: one line with both', () => {
    const p = { model: missing, inputs: join(tmp, 'x2.safetensors') } as unknown as Parsed;
    expect(thrown(() => checkPathFlags(p), UsageError).message).toBe(`--inputs ${tmp}/x2.safetensors: no such file; --model ${missing}: no such folder`);
  });

  it('--vae a file and --inputs a folder: both', () => {
    const p = { vae: file, inputs: tmp } as unknown as Parsed;
    expect(thrown(() => checkPathFlags(p), UsageError).message).toBe(`--inputs ${tmp}: not a regular file (expected a .safetensors file, got a folder); --vae ${file}: not a folder (expected a diffusers model folder with config.json)`);
  });

  it('one bad path: its line alone; good paths: nothing', () => {
    expect(thrown(() => checkPathFlags({ model: missing, inputs: file } as unknown as Parsed), UsageError).message).toBe(`--model ${missing}: no such folder`);
    expect(() => checkPathFlags({ model: tmp, inputs: file } as unknown as Parsed)).not.toThrow();
  });
});
