// Golden cases (tests/fixtures/<case>/case.json, copied from shared/golden): run the CLI as the
// case says and compare with max|out − expected| / max|expected|.
import { execFile } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readInputs } from '../../src/io/inputs.js';
import type { ForwardInputs } from '../../src/model/model.js';

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURES = join(ROOT, 'tests', 'fixtures');

export interface GoldenCase {
  name: string;
  family: string;
  mode: string;
  cli: { subcommand: string; args: string[]; output_key: string };
  tolerance: { max: number };
  precision_estimates?: { float32_compute: number; float16_compute: number };
}

export function loadCase(name: string): GoldenCase {
  return JSON.parse(readFileSync(join(FIXTURES, name, 'case.json'), 'utf8'));
}

/** Runs the case through `node bin/tessera.mjs` (or `cli`, e.g. an installed copy) and returns the relative error. */
export async function runCase(name: string, extra: string[] = [], cli: string[] = [process.execPath, join(ROOT, 'bin', 'tessera.mjs')]): Promise<{ rel: number; maxAbs: number; stderr: string }> {
  const c = loadCase(name);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-golden-'));
  const out = join(dir, 'out.safetensors');
  try {
    const args = c.cli.args.map((a) => a.replace('{case}', join(FIXTURES, name)).replace('{out}', out));
    const { stderr } = await run(cli[0]!, [...cli.slice(1), c.cli.subcommand, ...args, ...extra], { cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' } });
    const got = (await readInputs(out)).get(c.cli.output_key)!;
    const exp = (await readInputs(join(FIXTURES, name, 'expected.safetensors'))).get(c.cli.output_key)!;
    if (JSON.stringify(got.shape) !== JSON.stringify(exp.shape)) throw new Error(`${name}: output shape [${got.shape}] ≠ expected [${exp.shape}]`);
    let maxAbs = 0;
    let maxExp = 0;
    for (let i = 0; i < exp.f32!.length; i++) {
      const d = Math.abs(got.f32![i]! - exp.f32![i]!);
      maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, d);
      maxExp = Math.max(maxExp, Math.abs(exp.f32![i]!));
    }
    return { rel: maxAbs / maxExp, maxAbs, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A golden case's inputs.safetensors as `model.forward` takes them. */
export async function fixtureInputs(name: string): Promise<ForwardInputs> {
  const m = await readInputs(join(FIXTURES, name, 'inputs.safetensors'));
  const fi: ForwardInputs = { hidden_states: { data: m.get('hidden_states')!.f32!, shape: m.get('hidden_states')!.shape }, timestep: m.get('timestep')!.f32! };
  if (m.has('class_labels')) fi.class_labels = Array.from(m.get('class_labels')!.i64!, Number);
  else fi.encoder_hidden_states = { data: m.get('encoder_hidden_states')!.f32!, shape: m.get('encoder_hidden_states')!.shape };
  return fi;
}
