// The CLI's "wrote" lines count steps in words ("after 1 step", not "after 1 steps"), in the
// --model path (cmd-generate) and the pipeline path (generate-pipeline); bench --trace writes
// through the atomic writer (no temp file left beside it).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';

const root = join(import.meta.dirname, '..', '..');
const tmp = join(root, 'tests', '.tmp', 'cli-wording');

describe.skipIf(!hasGpu)('CLI wording', () => {
  it('--model: "after 1 step of"', async () => {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const out = join(tmp, 'dit.safetensors');
    const r = await tesseraCli(['generate', '--model', 'tests/fixtures/dit_small/model', '--scheduler', 'ddim', '--seed', '0', '--height', '8', '--width', '8', '--class-label', '1', '--steps', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/ after 1 step of DDIMScheduler /);
  });
  it('the embedded pipeline: "after 1 step in"', async () => {
    mkdirSync(tmp, { recursive: true });
    const r = await tesseraCli(['generate', '--steps', '1', '--out', join(tmp, 'emb.safetensors')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/ after 1 step in \d+\.\d s /);
  });
  it('bench --trace: the trace is written whole, with no temp file beside it', async () => {
    const dir = join(tmp, 'trace');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const trace = join(dir, 't.json');
    const r = await tesseraCli(['bench', 'gemm', '--m', '8', '--k', '8', '--n', '8', '--repeats', '1', '--warmup', '0', '--no-wall', '--no-ceiling', '--trace', trace]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(trace)).toBe(true);
    expect(Array.isArray(JSON.parse(readFileSync(trace, 'utf8')).traceEvents)).toBe(true);
    expect(readdirSync(dir)).toEqual(['t.json']);
  });
});
