// A copy of the embedded tessera-shapes pipeline (models/tessera-shapes) with its configs and no weights, for CLI tests
// whose refusal must come before the loader: run on it, anything the early checks pass ends at the loader's
// ModelFolderError for the transformer's missing weights.
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './golden.js';

/** The JSON files of tessera-shapes a config-only copy holds (the tokenizer folder is linked). */
export const SHAPES_CONFIGS = ['model_index.json', 'transformer/config.json', 'vae/config.json', 'text_encoder/config.json', 'scheduler/scheduler_config.json'];

/** Makes `dir`/pipe: tessera-shapes' configs (WanPipeline; WanTransformer3DModel in_channels 16, text_dim 64, patch 1×2×2) and tokenizer, no weights. @returns its path. */
export function shapesConfigsOnly(dir: string): string {
  const shapes = join(ROOT, 'models', 'tessera-shapes');
  const pipe = join(dir, 'pipe');
  for (const c of ['transformer', 'vae', 'text_encoder', 'scheduler']) mkdirSync(join(pipe, c), { recursive: true });
  for (const f of SHAPES_CONFIGS) copyFileSync(join(shapes, f), join(pipe, f));
  symlinkSync(join(shapes, 'tokenizer'), join(pipe, 'tokenizer'));
  return pipe;
}
