// The embedded default pipeline: tessera-shapes (models/tessera-shapes, trained by training/train.py,
// issue 12) — a miniature Wan2.1 pipeline (UMT5 text encoder, WanTransformer3DModel, AutoencoderKLWan,
// UniPC) that makes 9-frame 32×32 clips of a coloured shape moving in a straight line. Used by
// `tessera generate --prompt P` without --pipeline/--model and by `tessera demo`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PipelineError } from '../pipeline/pipeline.js';

export { EMBEDDED_DEFAULTS, EMBEDDED_VOCABULARY, outOfVocabulary, vocabularyNote } from '../pipeline/embedded.js';

/**
 * Folder of the embedded pipeline: `<package root>/models/tessera-shapes` (this file is
 * src/cli/embedded.ts in a checkout and dist/cli/embedded.js in the package: two levels below the root).
 * `packageRoot`: for tests; default the package root above this file.
 * @throws PipelineError when the folder is missing (a package built without models/tessera-shapes).
 */
export function embeddedPipelineDir(packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')): string {
  const dir = join(packageRoot, 'models', 'tessera-shapes');
  if (!existsSync(join(dir, 'model_index.json'))) throw new PipelineError(`${dir}/model_index.json: missing, so there is no embedded pipeline to run (this install lacks models/tessera-shapes): give --pipeline DIR or --model DIR`);
  return dir;
}
