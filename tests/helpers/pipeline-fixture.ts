// The embedded tessera-shapes pipeline (models/tessera-shapes) for the tests of one describe block: loaded once
// on the shared test device before them, disposed after them.
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadPipeline, type Pipeline, type PipelineLoadOptions } from '../../src/pipeline/pipeline.js';
import { ROOT } from './golden.js';
import { gpu } from './gpu.js';

/** The embedded pipeline's folder. */
export const SHAPES_DIR = join(ROOT, 'models', 'tessera-shapes');

/**
 * Call inside a describe (one skipped when !hasGpu): its beforeAll loads SHAPES_DIR with `options` on the shared
 * test device (options.gpu overrides it) and hands the pipeline to `set`; its afterAll disposes it.
 * `timeout`: the load's hook timeout in ms.
 */
export function pipelineFixture(set: (pipe: Pipeline) => void, options: PipelineLoadOptions = {}, timeout = 300_000): void {
  let pipe: Pipeline | undefined;
  beforeAll(async () => {
    pipe = await loadPipeline(SHAPES_DIR, { gpu: gpu!, ...options });
    set(pipe);
  }, timeout);
  afterAll(() => pipe?.dispose());
}
