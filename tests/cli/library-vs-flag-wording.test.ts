// One refusal, two audiences (a fresh user's list, session 16): a variant-only folder said `pass --variant fp16
// (library: loadModel(dir, { variant: 'fp16' }))` to library callers and CLI users alike. The library's message
// now names the call and its option only; the CLI's line (errorLine → flagNames) names the flag only. A pipeline
// folder given where a component folder is expected: loadPipeline / loadVae for the library, --pipeline / --vae
// on the command line. No device needed.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { openModelFolder } from '../../src/io/model-folder.js';
import { mapFolder } from '../../src/io/source.js';
import { loadModel } from '../../src/model/model.js';
import { errorLine } from '../../src/cli/errors.js';
import { ROOT } from '../helpers/golden.js';

const PIPE = join(ROOT, 'models', 'tessera-shapes');
const message = (p: Promise<unknown>) => p.then(() => 'loaded', (e: Error) => e);

describe('library messages in option words, CLI lines in flag words', () => {
  it('a variant-only folder', async () => {
    const files = new Map([
      ['config.json', new TextEncoder().encode('{"_class_name": "WanTransformer3DModel"}')],
      ['diffusion_pytorch_model.fp16.safetensors', new Uint8Array(16)],
    ]);
    const e = (await message(openModelFolder(mapFolder('v', files)))) as Error;
    expect(e.message).toBe("v/diffusion_pytorch_model.safetensors: neither diffusion_pytorch_model.safetensors nor diffusion_pytorch_model.safetensors.index.json found; the folder has the weight variant fp16 (diffusion_pytorch_model.fp16.safetensors): load it with loadModel(dir, { variant: 'fp16' })");
    expect(e.message).not.toMatch(/--/);
    expect(errorLine(e, false)).toBe(
      'tessera: error: ModelFolderError: v/diffusion_pytorch_model.safetensors: neither diffusion_pytorch_model.safetensors nor diffusion_pytorch_model.safetensors.index.json found; the folder has the weight variant fp16 (diffusion_pytorch_model.fp16.safetensors): pass --variant fp16',
    );
  });

  it("a pipeline's root where a component folder is expected", async () => {
    const e = (await message(loadModel(PIPE))) as Error;
    expect(e.message).toBe(`${PIPE}/config.json: no such file: ${PIPE} is a pipeline folder (model_index.json): load it with loadPipeline, or give its component folder, ${PIPE}/transformer (loadVae: ${PIPE}/vae)`);
    expect(errorLine(e, false)).toBe(`tessera: error: ModelFolderError: ${PIPE}/config.json: no such file: ${PIPE} is a pipeline folder (model_index.json): give it as --pipeline DIR, or give its component folder, ${PIPE}/transformer (--vae ${PIPE}/vae)`);
  });
});
