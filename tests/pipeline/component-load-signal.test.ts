// The load signal inside the VAE's and the text encoder's loads (a fresh user's list, session 16): loadPipeline
// checked its signal only between components, so an abort during the VAE's or the text encoder's weights waited
// for that component's whole load. Now loadVae and loadTextEncoder take `signal` and check it before each
// tensor, and loadPipeline passes its own; each abort names the component folder and the tensor.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import { loadVae } from '../../src/vae/vae.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { nodeFolder } from '../../src/io/node-source.js';
import type { FolderSource } from '../../src/io/source.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');

/** tessera-shapes whose file `file` aborts `ctl` once it has been read `after` times (header reads included). */
function abortingAt(ctl: AbortController, file: string, after: number): FolderSource {
  const f = nodeFolder(DIR);
  let reads = 0;
  return {
    ...f,
    async open(rel) {
      const src = await f.open(rel);
      if (rel !== file) return src;
      return { ...src, read: async (o, n) => (++reads === after && ctl.abort('user'), src.read(o, n)) };
    },
  };
}

describe.skipIf(!hasGpu)('signal inside the VAE and text encoder loads', () => {
  it('loadVae stops before its next tensor, naming it', async () => {
    const ctl = new AbortController();
    const e = (await loadVae(join(DIR, 'vae'), { gpu: gpu!, signal: ctl.signal, onProgress: (d) => void (d === 2 && ctl.abort('user')) }).catch((x: unknown) => x)) as Error;
    expect(e.name).toBe('AbortError');
    expect(e.message).toMatch(new RegExp(`^loadVae\\(${DIR}/vae\\), before \\S+ \\(3/\\d+\\): aborted \\(user\\)$`));
    await expect(loadVae(join(DIR, 'vae'), { gpu: gpu!, signal: 'x' as never })).rejects.toThrow(/^signal: an AbortSignal/);
  });

  it('loadTextEncoder stops before its next tensor, naming it', async () => {
    const ctl = new AbortController();
    const folders = { tokenizer: nodeFolder(join(DIR, 'tokenizer')), textEncoder: nodeFolder(join(DIR, 'text_encoder')) };
    const e = (await loadTextEncoder(folders, { gpu: gpu!, signal: ctl.signal, onProgress: (d) => void (d === 2 && ctl.abort('user')) }).catch((x: unknown) => x)) as Error;
    expect(e.name).toBe('AbortError');
    expect(e.message).toMatch(new RegExp(`^loadTextEncoder\\(${DIR}/text_encoder\\), before \\S+ \\(4/\\d+\\): aborted \\(user\\)$`));
    const pre = (await loadTextEncoder(folders, { gpu: gpu!, signal: AbortSignal.abort('stop') }).catch((x: unknown) => x)) as Error;
    expect(pre.message).toBe(`loadTextEncoder(${DIR}/text_encoder), before reading its folder: aborted (stop)`);
  });

  it('loadPipeline passes its signal into the VAE and the text encoder loads', async () => {
    const v = new AbortController();
    const ev = (await loadPipeline(abortingAt(v, 'vae/diffusion_pytorch_model.safetensors', 3), { gpu: gpu!, signal: v.signal }).catch((x: unknown) => x)) as Error;
    expect(ev.name).toBe('AbortError');
    expect(ev.message).toMatch(new RegExp(`^loadVae\\(${DIR}/vae\\), before \\S+ \\(2/\\d+\\): aborted \\(user\\)$`));
    const t = new AbortController();
    const et = (await loadPipeline(DIR, { gpu: gpu!, signal: t.signal, onProgress: (c, d) => void (c === 'text_encoder' && d === 1 && t.abort('user')) }).catch((x: unknown) => x)) as Error;
    expect(et.name).toBe('AbortError');
    expect(et.message).toMatch(new RegExp(`^loadTextEncoder\\(${DIR}/text_encoder\\), before \\S+ \\(3/\\d+\\): aborted \\(user\\)$`));
  });
});
