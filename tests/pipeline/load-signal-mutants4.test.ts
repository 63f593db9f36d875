// Mutation round 4 (session 17) on the loaders' signal checks (53a4a41, 2499a6d, 5a56aaa): loadModel checks the
// signal after reading its headers (before the weights' first tensor), loadPipeline before the text_encoder and
// after loading every component. The components' own loads check it before each tensor, so these checks catch an
// abort fired during a component's last tensor (after its check): here from the VAE file's last read (a
// FolderSource that counts a clean load's reads first) and from the text encoder's last onProgress. Each must
// reject with the line naming that point. Each case failed under a mutant that survived load-warning-signal.test.ts.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { nodeFolder } from '../../src/io/node-source.js';
import type { FolderSource } from '../../src/io/source.js';
import { loadModel } from '../../src/model/model.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');

/**
 * `dir` on disk, aborting `ac` (reason `why`) when a file whose path ends with `suffix` is opened, or with `atRead`
 * at that file's read number `atRead` (1-based); `reads.n` counts that file's reads.
 */
function abortingOn(dir: string, suffix: string, ac: AbortController, why: string, atRead?: number, reads = { n: 0 }): FolderSource {
  const f = nodeFolder(dir);
  return {
    name: dir,
    readText: (rel) => f.readText(rel),
    list: (sub) => f.list!(sub),
    open: async (rel) => {
      const src = await f.open(rel);
      if (!rel.endsWith(suffix)) return src;
      if (atRead === undefined) {
        ac.abort(why);
        return src;
      }
      return {
        ...src,
        read: async (offset: number, length: number) => {
          if (++reads.n === atRead) ac.abort(why);
          return src.read(offset, length);
        },
      };
    },
  };
}

describe('loadModel: the signal after reading the headers', () => {
  it('aborted while the shard headers were read: "after reading its headers", before any tensor', async () => {
    const ac = new AbortController();
    const dir = join(DIR, 'transformer');
    const e = (await loadModel(abortingOn(dir, '.safetensors', ac, 'headers'), { signal: ac.signal }).catch((x: unknown) => x)) as Error;
    expect(e.name).toBe('AbortError');
    expect(e.message).toBe(`loadModel(${dir}), after reading its headers: aborted (headers)`);
  });
});

describe.skipIf(!hasGpu)('loadPipeline: the signal between and after the components\' loads', () => {
  it('aborted during the VAE\'s last read: "before the text_encoder"', async () => {
    const VAE = 'vae/diffusion_pytorch_model.safetensors';
    const count = { n: 0 };
    (await loadPipeline(abortingOn(DIR, VAE, new AbortController(), '', Infinity, count), { gpu: gpu! })).dispose();
    expect(count.n).toBeGreaterThan(1);
    const ac = new AbortController();
    const e = (await loadPipeline(abortingOn(DIR, VAE, ac, 'vae read', count.n), { gpu: gpu!, signal: ac.signal }).catch((x: unknown) => x)) as Error;
    expect(e.name).toBe('AbortError');
    expect(e.message).toBe(`loadPipeline(${DIR}), before the text_encoder: aborted (vae read)`);
  }, 120_000);

  it('aborted at the text encoder\'s last tensor: "after loading every component", no pipeline', async () => {
    const ac = new AbortController();
    const got = await loadPipeline(DIR, { gpu: gpu!, signal: ac.signal, onProgress: (c, d, t) => void (c === 'text_encoder' && d === t && ac.abort('te')) }).catch((x: unknown) => x);
    if (!(got instanceof Error)) (got as { dispose(): void }).dispose();
    expect(got).toBeInstanceOf(Error);
    expect((got as Error).name).toBe('AbortError');
    expect((got as Error).message).toBe(`loadPipeline(${DIR}), after loading every component: aborted (te)`);
  }, 120_000);
});
