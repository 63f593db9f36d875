// model_index.json listing an image component (S25 review, finding 7): "image_processor" and "image_encoder" were
// refused with "tessera runs text/class-to-video with one transformer", which did not fit an image processor.
// diffusers' from_pretrained ignores a component the pipeline class does not take (WanPipeline, LattePipeline and
// DiTPipeline take neither) with a warning, and runs as without it; tessera now does the same with a note naming the
// component. A second transformer, which WanPipeline does use (Wan2.2's experts), stays refused, in words that fit.
// The pipeline is the wan_pipeline_embeds fixture's JSON files in memory: the load goes on past the note and stops
// at the first weight file, which is not there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { mapFolder } from '../../src/io/source.js';
import { loadPipeline, PipelineError } from '../../src/pipeline/pipeline.js';
import { FIXTURES } from '../helpers/golden.js';

const PIPE = join(FIXTURES, 'wan_pipeline_embeds', 'pipeline');
const JSONS = ['scheduler/scheduler_config.json', 'transformer/config.json', 'vae/config.json'];

/** The fixture's JSON files with model_index.json's entries `set`. */
function pipeline(set: Record<string, unknown>) {
  const index = { ...JSON.parse(readFileSync(join(PIPE, 'model_index.json'), 'utf8')), ...set };
  const files = new Map<string, Uint8Array>(JSONS.map((f) => [f, readFileSync(join(PIPE, f))]));
  files.set('model_index.json', new TextEncoder().encode(JSON.stringify(index)));
  return mapFolder('p', files);
}

async function load(set: Record<string, unknown>): Promise<{ lines: string[]; error: unknown }> {
  const lines: string[] = [];
  const error = await loadPipeline(pipeline(set), { onWarning: (l) => void lines.push(l) }).catch((e: unknown) => e);
  return { lines, error };
}

describe('model_index.json with components tessera does not run', () => {
  it('image_processor and image_encoder: a note each, and the load goes on (to the missing weights here)', async () => {
    const { lines, error } = await load({ image_processor: ['transformers', 'CLIPImageProcessor'], image_encoder: ['transformers', 'CLIPVisionModel'], some_flag: true });
    expect(lines).toEqual([
      'note: p/model_index.json: component "image_encoder" (CLIPVisionModel) ignored: WanPipeline takes none (diffusers\' from_pretrained ignores it too); tessera runs no image conditioning',
      'note: p/model_index.json: component "image_processor" (CLIPImageProcessor) ignored: WanPipeline takes none (diffusers\' from_pretrained ignores it too); tessera runs no image conditioning',
    ]);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toMatch(/image_/);
    expect((error as Error).message).toMatch(/diffusion_pytorch_model/);
  });
  it('one saved as None (null) says nothing', async () => {
    expect((await load({ image_processor: [null, null] })).lines).toEqual([]);
  });
  it('transformer_2: refused in one line that says why', async () => {
    const { lines, error } = await load({ transformer_2: ['diffusers', 'WanTransformer3DModel'], boundary_ratio: 0.875 });
    expect(lines).toEqual([]);
    expect(error).toEqual(new PipelineError('p/model_index.json: component "transformer_2" (WanTransformer3DModel) is not supported: tessera runs pipelines of one transformer (WanPipeline with transformer_2: Wan2.2 A14B\'s two experts, switched at boundary_ratio)'));
  });
});
