// `tessera generate --pipeline DIR` with a folder where one of DIR's files should be: one line naming the
// file and what lists it, in the loader's kind for that file (PipelineError for the pipeline's own JSON
// files, as a missing one; TokenizerError for tokenizer/'s), exit 1, nothing written.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { cli, FIXTURES, tempDir } from '../hardening/helpers.js';

/** A copy of `from` with the file `rel` replaced by a folder. */
function withFolderFor(from: string, rel: string): string {
  const dir = join(tempDir(), 'pipe');
  cpSync(from, dir, { recursive: true });
  rmSync(join(dir, rel));
  mkdirSync(join(dir, rel));
  return dir;
}

describe.skipIf(!hasGpu)('generate --pipeline: a folder in the place of one of its files', () => {
  it('scheduler/scheduler_config.json: PipelineError naming it', async () => {
    const dir = withFolderFor(join(FIXTURES, 'wan_pipeline_embeds', 'pipeline'), 'scheduler/scheduler_config.json');
    const out = join(tempDir(), 'o.safetensors');
    const r = await cli(['generate', '--pipeline', dir, '--inputs', join(FIXTURES, 'wan_pipeline_embeds', 'euler_b1.inputs.safetensors'), '--steps', '1', '--out', out]);
    expect(r.errLines).toEqual([`tessera: error: PipelineError: ${dir}/scheduler/scheduler_config.json: is a folder, not a file (model_index.json lists scheduler FlowMatchEulerDiscreteScheduler)`]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });

  it('tokenizer/tokenizer.json: TokenizerError naming it, as a missing one', async () => {
    const dir = withFolderFor('models/tessera-shapes', 'tokenizer/tokenizer.json');
    const out = join(tempDir(), 'o.safetensors');
    const r = await cli(['generate', '--pipeline', dir, '--prompt', 'a red circle', '--seed', '0', '--height', '32', '--width', '32', '--frames', '9', '--steps', '1', '--out', out]);
    expect(r.errLines).toEqual([`tessera: error: TokenizerError: ${dir}/tokenizer/tokenizer.json: is a folder, not a file (tessera reads the tokenizer from tokenizer.json)`]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });

  it('a transformer folder given as --pipeline: PipelineError pointing to --model DIR (the library says loadModel)', async () => {
    const dir = join(tempDir(), 'transformer');
    cpSync(join(FIXTURES, 'wan_small', 'model'), dir, { recursive: true });
    const out = join(tempDir(), 'o.safetensors');
    const r = await cli(['generate', '--pipeline', dir, '--prompt', 'a red circle', '--seed', '0', '--height', '32', '--width', '32', '--frames', '9', '--steps', '1', '--out', out]);
    expect(r.errLines).toEqual([`tessera: error: PipelineError: ${dir}/model_index.json: missing: ${dir} is a transformer folder (config.json: WanTransformer3DModel), a pipeline's transformer/ component; give the pipeline folder that holds it, ${dirname(dir)} (or give this folder as --model DIR)`]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });
});
