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
/** The line's end for these folders, which hold no default weights (session 25: it claimed "without a variant the default weights load"). */
const NO_DEFAULT = 'there are no default weights either (no transformer/diffusion_pytorch_model.safetensors, vae/diffusion_pytorch_model.safetensors or index): ask for the variant fp16';

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
      `one: ${LOOKED}the weight variant there: fp16 (transformer/diffusion_pytorch_model.fp16.safetensors); ${NO_DEFAULT}`,
    );
  });

  it("a variant's shards in sorted order, however the folder lists them", async () => {
    const shards = ['transformer/diffusion_pytorch_model.fp16-00002-of-00002.safetensors', 'transformer/diffusion_pytorch_model.fp16-00001-of-00002.safetensors'];
    expect(await refusal(pipeline('shards', shards))).toBe(
      `shards: ${LOOKED}the weight variant there: fp16 (${[...shards].sort().join(', ')}); ${NO_DEFAULT}`,
    );
  });

  it('a folder that cannot list its files: the line without the variants there', async () => {
    const { list: _, ...unlisted } = pipeline('http', ['transformer/diffusion_pytorch_model.fp16.safetensors']);
    expect(await refusal(unlisted)).toBe(`http: ${LOOKED}without a variant the default weights load`);
  });

  // session 25 (S25 review, finding 5): the line's end says what loading without a variant finds
  it('some components without default weights: names them; a default index counts as default weights', async () => {
    expect(await refusal(pipeline('part', ['transformer/diffusion_pytorch_model.safetensors.index.json', 'transformer/diffusion_pytorch_model.fp16.safetensors', 'vae/diffusion_pytorch_model.fp16.safetensors']))).toBe(
      `part: ${LOOKED}the weight variant there: fp16 (transformer/diffusion_pytorch_model.fp16.safetensors, vae/diffusion_pytorch_model.fp16.safetensors); without a variant vae/diffusion_pytorch_model.safetensors (or its index) is missing: ask for the variant fp16`,
    );
  });

  it('two variants there and no default weights: ask for one of those', async () => {
    expect(await refusal(pipeline('two', ['transformer/diffusion_pytorch_model.fp16.safetensors', 'vae/diffusion_pytorch_model.bf16.safetensors']))).toBe(
      `two: ${LOOKED}the weight variants there: fp16 (transformer/diffusion_pytorch_model.fp16.safetensors), bf16 (vae/diffusion_pytorch_model.bf16.safetensors); there are no default weights either (no transformer/diffusion_pytorch_model.safetensors, vae/diffusion_pytorch_model.safetensors or index): ask for one of those variants`,
    );
  });

  it('default weights everywhere: they load without a variant', async () => {
    expect(await refusal(pipeline('dflt', ['transformer/diffusion_pytorch_model.safetensors', 'vae/diffusion_pytorch_model.safetensors', 'transformer/diffusion_pytorch_model.fp16.safetensors']))).toBe(
      `dflt: ${LOOKED}the weight variant there: fp16 (transformer/diffusion_pytorch_model.fp16.safetensors); without a variant the default weights load`,
    );
  });
});
