// loadModel given a pipeline's root, or a folder that does not exist, said only ".../config.json: missing
// config.json" (helper E, 29-pipeline-variant-msg): it says which it is and what to load instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { openModelFolder, ModelFolderError } from '../../src/io/model-folder.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { mapFolder } from '../../src/io/source.js';
import { loadModel } from '../../src/model/model.js';
import { ROOT } from '../helpers/golden.js';

const PIPE = join(ROOT, 'models', 'tessera-shapes');

describe('a folder without config.json', () => {
  it("a pipeline's root names loadPipeline and its component folders", async () => {
    const e = await loadModel(PIPE).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ModelFolderError);
    expect((e as Error).message).toBe(`${PIPE}/config.json: no such file: ${PIPE} is a pipeline folder (model_index.json): load it with loadPipeline, or give its component folder, ${PIPE}/transformer (loadVae: ${PIPE}/vae)`);
    const t = await openModelFolder(nodeFolder(PIPE), { library: 'transformers' }).catch((x: unknown) => x);
    expect((t as Error).message).toBe(`${PIPE}/config.json: no such file: ${PIPE} is a pipeline folder (model_index.json): load it with loadPipeline, or give its component folder, ${PIPE}/text_encoder`);
  });

  it('a folder that does not exist says so; an existing empty one (or one that cannot list) only that config.json is missing', async () => {
    const gone = join(tmpdir(), 'tessera-no-such-folder', 'transformer');
    const e = await loadModel(gone).catch((x: unknown) => x);
    expect((e as Error).message).toBe(`${gone}/config.json: no such file: there is no folder ${gone}`);
    const dir = mkdtempSync(join(tmpdir(), 'tessera-empty-'));
    try {
      expect(((await openModelFolder(nodeFolder(dir)).catch((x: unknown) => x)) as Error).message).toBe(`${dir}/config.json: no such file: ${dir} is not a model folder (a diffusers model folder holds config.json beside its weights)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(((await openModelFolder(mapFolder('m', new Map())).catch((x: unknown) => x)) as Error).message).toBe('m/config.json: no such file: m is not a model folder (a diffusers model folder holds config.json beside its weights)');
  });
});
