// Mutation round 4 (session 17) on loadPipeline's wrong-variant line (071afea): one variant found is "the weight
// variant there" (singular); a variant's files are named in sorted order whatever order the folder lists them
// in; a folder that cannot list its files (HTTP) gets the line without the variants, not a TypeError. The
// pipeline is the wan_pipeline_embeds fixture's JSON files in memory (mapFolder); the refusal comes before any
// weight is read. Each case failed under a mutant that survived pipeline.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { mapFolder, type FolderSource } from '../../src/io/source.js';
import { loadPipeline, PipelineError } from '../../src/pipeline/pipeline.js';
import { FIXTURES } from '../helpers/golden.js';

const PIPE = join(FIXTURES, 'wan_pipeline_embeds', 'pipeline');
const JSONS = ['model_index.json', 'scheduler/scheduler_config.json', 'transformer/config.json', 'vae/config.json'];
const LOOKED = 'no component has the weight variant f16 (looked in transformer/diffusion_pytorch_model.f16.safetensors, vae/diffusion_pytorch_model.f16.safetensors and their indexes); ';

/** The fixture's JSON files, then `extra` (empty weight files) in the order given. */
function pipeline(name: string, extra: string[]): FolderSource {
  const files = new Map<string, Uint8Array>(JSONS.map((f) => [f, readFileSync(join(PIPE, f))]));
  for (const f of extra) files.set(f, new Uint8Array(8));
  return mapFolder(name, files);
}

async function refusal(folder: FolderSource): Promise<string> {
  const e = await loadPipeline(folder, { variant: 'f16' }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(PipelineError);
  return (e as Error).message;
}

describe("loadPipeline's wrong-variant line", () => {
  it('one variant there: "the weight variant there" (singular)', async () => {
    expect(await refusal(pipeline('one', ['transformer/diffusion_pytorch_model.fp16.safetensors']))).toBe(
      `one: ${LOOKED}the weight variant there: fp16 (transformer/diffusion_pytorch_model.fp16.safetensors); without a variant the default weights load`,
    );
  });

  it("a variant's shards in sorted order, however the folder lists them", async () => {
    const shards = ['transformer/diffusion_pytorch_model.fp16-00002-of-00002.safetensors', 'transformer/diffusion_pytorch_model.fp16-00001-of-00002.safetensors'];
    expect(await refusal(pipeline('shards', shards))).toBe(
      `shards: ${LOOKED}the weight variant there: fp16 (${[...shards].sort().join(', ')}); without a variant the default weights load`,
    );
  });

  it('a folder that cannot list its files: the line without the variants there', async () => {
    const { list: _, ...unlisted } = pipeline('http', ['transformer/diffusion_pytorch_model.fp16.safetensors']);
    expect(await refusal(unlisted)).toBe(`http: ${LOOKED}without a variant the default weights load`);
  });
});
