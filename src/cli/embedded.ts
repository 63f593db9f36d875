// The embedded default pipeline: tessera-shapes (models/tessera-shapes, trained by training/train.py,
// issue 12) — a miniature Wan2.1 pipeline (UMT5 text encoder, WanTransformer3DModel, AutoencoderKLWan,
// UniPC) that makes 9-frame 32×32 clips of a coloured shape moving in a straight line. Used by
// `tessera generate --prompt P` without --pipeline/--model and by `tessera demo`.
import { embeddedPipelinePath } from '../pipeline/embedded-node.js';
import { PipelineError } from '../pipeline/pipeline.js';

export { EMBEDDED_DEFAULTS, EMBEDDED_VOCABULARY, embeddedSizeNote, outOfVocabulary, vocabularyNote } from '../pipeline/embedded.js';

/**
 * Folder of the embedded pipeline (embeddedPipelinePath), its refusal worded for the command line.
 * `packageRoot`: for tests; default the package root.
 * @throws PipelineError when the folder is missing (a package built without models/tessera-shapes).
 */
export function embeddedPipelineDir(packageRoot?: string): string {
  try {
    return embeddedPipelinePath(packageRoot);
  } catch (e) {
    if (!(e instanceof PipelineError)) throw e;
    throw new PipelineError(e.message.replace(/; load a pipeline folder of your own$/, ': give --pipeline DIR or --model DIR'));
  }
}
