// Node only: where the embedded tessera-shapes pipeline (models/tessera-shapes) lies in this install, for
// library users (`loadPipeline(embeddedPipelinePath())`). The package does not export its models/ folder
// as a module path (import.meta.resolve('tessera/models/...') is refused), so the path comes from here.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PipelineError } from './pipeline.js';

/**
 * Absolute path of the embedded pipeline folder, `<package root>/models/tessera-shapes` (this file is
 * src/pipeline/embedded-node.ts in a checkout and dist/pipeline/embedded-node.js in the package: two
 * levels below the root). A miniature Wan2.1 pipeline (UMT5, WanTransformer3DModel, AutoencoderKLWan,
 * UniPC) making 32×32, 9-frame clips of prompts "a {colour} {shape} moving {direction}"
 * (EMBEDDED_VOCABULARY, EMBEDDED_DEFAULTS in ./embedded.ts).
 * `packageRoot`: for tests; default the package root above this file.
 * @throws PipelineError naming the missing model_index.json when the install lacks models/tessera-shapes.
 * @example
 * const pipe = await loadPipeline(embeddedPipelinePath());
 * const { video } = await pipe.generate({ prompt: 'a red circle moving left', seed: 1, height: 32, width: 32, num_frames: 9, num_inference_steps: 20 });
 */
export function embeddedPipelinePath(packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')): string {
  const dir = join(packageRoot, 'models', 'tessera-shapes');
  if (!existsSync(join(dir, 'model_index.json'))) throw new PipelineError(`${dir}/model_index.json: missing, so there is no embedded pipeline in this install (the package ships models/tessera-shapes); load a pipeline folder of your own`);
  return dir;
}
