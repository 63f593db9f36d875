// Runs a case of tests/fixtures/situations (made by make_cases.py with the real diffusers / transformers in float64)
// through the CLI as a user would, and returns the golden metric max|out − expected| / max|expected|.
// A case's model is a small fixture model (case.json "model_from"), stored in the case's weight dtype (f16 / bf16:
// the f32 weights rounded to nearest even, as the reference's torch .to() did) in a temporary folder, with the case's
// scheduler/ beside it so that generate reads its scheduler_config.json as diffusers' from_pretrained would. A
// pipeline case's folder is assembled from two fixture folders (its "pipeline_from": the text side and the rest) with
// the case's scheduler/.
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readInputs } from '../../src/io/inputs.js';
import { openModelFolder } from '../../src/io/model-folder.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { writeSafetensors, type WriteTensor } from '../../src/io/safetensors.js';
import { tesseraCli } from '../helpers/cli.js';
import { relError } from '../helpers/compare.js';
import { FIXTURES } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';
import { goldenF32Tol } from '../tolerances.js';

export const SITUATIONS = join(FIXTURES, 'situations');

export interface SituationCase {
  name: string;
  situation: string;
  model_from?: string;
  weights_dtype?: 'f32' | 'f16' | 'bf16';
  pipeline_from?: { text: string; rest: string };
  cli: { subcommand: string; args: string[]; output_key: string };
  tolerance: { max: number };
}

export function loadSituation(name: string): SituationCase {
  return JSON.parse(readFileSync(join(SITUATIONS, name, 'case.json'), 'utf8')) as SituationCase;
}

/** The fixture model `from` stored as `dtype` in `dir` (config.json copied, one weights file). */
async function storeModel(from: string, dtype: 'f32' | 'f16' | 'bf16', dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const src = join(FIXTURES, from);
  copyFileSync(join(src, 'config.json'), join(dir, 'config.json'));
  const weights = 'diffusion_pytorch_model.safetensors';
  if (dtype === 'f32') return copyFileSync(join(src, weights), join(dir, weights));
  const folder = await openModelFolder(nodeFolder(src));
  try {
    const tensors: WriteTensor[] = [];
    for (const [name, info] of folder.tensors) tensors.push({ name, dtype: dtype === 'f16' ? 'F16' : 'BF16', shape: info.shape, data: await folder.readF32(name) });
    writeFileSync(join(dir, weights), writeSafetensors(tensors));
  } finally {
    await folder.close();
  }
}

/** A WanPipeline folder in `dir`: tokenizer/ + text_encoder/ of `from.text`, transformer/ + vae/ of `from.rest`, `scheduler`. */
function assemblePipeline(from: { text: string; rest: string }, scheduler: string, dir: string): void {
  const text = join(FIXTURES, from.text);
  const rest = join(FIXTURES, from.rest);
  mkdirSync(dir, { recursive: true });
  for (const c of ['tokenizer', 'text_encoder']) symlinkSync(join(text, c), join(dir, c));
  for (const c of ['transformer', 'vae']) symlinkSync(join(rest, c), join(dir, c));
  cpSync(scheduler, join(dir, 'scheduler'), { recursive: true });
  const schedulerClass = (JSON.parse(readFileSync(join(scheduler, 'scheduler_config.json'), 'utf8')) as { _class_name: string })._class_name;
  const index = { ...JSON.parse(readFileSync(join(rest, 'model_index.json'), 'utf8')), ...JSON.parse(readFileSync(join(text, 'model_index.json'), 'utf8')), scheduler: ['diffusers', schedulerClass] };
  writeFileSync(join(dir, 'model_index.json'), JSON.stringify(index));
}

/** Runs the case's command; throws with the CLI's stderr when it fails or writes a wrong shape. */
export async function runSituation(name: string): Promise<{ rel: number; stderr: string }> {
  const c = loadSituation(name);
  const caseDir = join(SITUATIONS, name);
  const work = mkdtempSync(join(tmpdir(), `tessera-situation-${name}-`));
  try {
    const model = join(work, 'model');
    if (c.model_from) await storeModel(c.model_from, c.weights_dtype ?? 'f32', model);
    const pipeline = join(work, 'pipeline');
    if (c.pipeline_from) assemblePipeline(c.pipeline_from, join(caseDir, 'scheduler'), pipeline);
    else if (existsSync(join(caseDir, 'scheduler'))) cpSync(join(caseDir, 'scheduler'), join(work, 'scheduler'), { recursive: true });
    const out = join(work, 'out.safetensors');
    const args = c.cli.args.map((a) => a.replaceAll('{model}', model).replaceAll('{pipeline}', pipeline).replaceAll('{case}', caseDir).replaceAll('{fixtures}', FIXTURES).replaceAll('{out}', out));
    const r = await tesseraCli([c.cli.subcommand, ...args]);
    if (r.code !== 0) throw new Error(`${name}: tessera ${c.cli.subcommand} exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`);
    const got = (await readInputs(out)).get(c.cli.output_key);
    const want = (await readInputs(join(caseDir, 'expected.safetensors'))).get(c.cli.output_key)!;
    if (!got) throw new Error(`${name}: no tensor ${c.cli.output_key} in the output`);
    if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) throw new Error(`${name}: output shape [${got.shape}] ≠ expected [${want.shape}]`);
    return { rel: relError(got.f32!, want.f32!), stderr: r.stderr };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One test per case: its command through the CLI, held to the f32 golden bound (min of the case's 2e-3 and 1e-4). */
export function describeSituations(title: string, names: readonly string[]): void {
  describe.skipIf(!hasGpu)(title, () => {
    for (const name of names) {
      const c = loadSituation(name);
      it(`${name}: ${c.situation}`, async () => {
        const tol = goldenF32Tol(c.tolerance.max);
        const r = await runSituation(name);
        console.log(`${name}: relative error ${r.rel.toExponential(2)} (tolerance ${tol})`);
        expect(r.rel).toBeLessThanOrEqual(tol);
      });
    }
  });
}
