// loadVae's maxMemory: parsed as loadModel's (checkLoadOptions), and a decode whose weights + peak
// activations exceed it refused before any GPU work with the figures and what to change. The peak
// comes from a dry run of the decode's own recording (decodeMemory), which must match what a real
// decode measures (DecodeStats.peakBytes) on the embedded models/tessera-shapes VAE.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../helpers/golden.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadVae, type LoadVaeOptions, type Vae } from '../../src/vae/vae.js';
import { decodeMemory } from '../../src/vae/decoder.js';
import type { VaeWeights } from '../../src/vae/weights.js';
import { fmtBytes } from '../../src/gpu/tensor.js';
import { InputError } from '../../src/model/model.js';
import { LimitError } from '../../src/model/memory.js';
import { randn } from '../../src/random.js';

const DIR = join(ROOT, 'models', 'tessera-shapes', 'vae');
const latents = (shape: number[], seed = 1) => ({ data: randn(shape.reduce((a, b) => a * b, 1), seed), shape });
const weightsOf = (vae: Vae) => (vae as unknown as { weights: VaeWeights }).weights;

describe('loadVae maxMemory (before anything is read)', () => {
  const nowhere = join(ROOT, 'no-such-vae-folder');
  const refused = async (maxMemory: unknown) => {
    const e = await loadVae(nowhere, { maxMemory } as LoadVaeOptions).catch((x: unknown) => x);
    expect(e, String(maxMemory)).toBeInstanceOf(InputError);
    return (e as Error).message;
  };
  it('bytes > 0 or a size string, as loadModel takes it', async () => {
    expect(await refused(-1)).toBe('maxMemory: a number of bytes > 0 or a size such as "2GiB", got -1');
    expect(await refused(true)).toBe('maxMemory: a number of bytes > 0 or a size such as "2GiB", got true');
    expect(await refused('lots')).toBe('maxMemory: not a memory size: "lots" (expected e.g. 512MiB, 2GiB or a number of bytes)');
    expect(await refused('0GiB')).toBe('maxMemory: not a positive memory size: "0GiB"');
  });
  it('is among the options an unknown one is told of', async () => {
    const e = await loadVae(nowhere, { max_memory: '1GiB' } as unknown as LoadVaeOptions).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe('max_memory: not an option of loadVae; did you mean maxMemory? (options: gpu, device, dtype, variant, onProgress, preflight, maxMemory, signal, unexpectedKeys, onWarning)');
  });
});

describe.skipIf(!hasGpu)('decode within maxMemory (embedded VAE)', () => {
  it('the dry run\'s peak is what a real decode measures (untiled, banded, one frame and three)', async () => {
    const vae = await loadVae(nodeFolder(DIR), { gpu: gpu! });
    try {
      for (const [shape, bands] of [[[1, 16, 3, 8, 8], undefined], [[1, 16, 3, 8, 8], 2], [[1, 16, 1, 8, 12], undefined], [[2, 16, 2, 4, 4], undefined]] as const) {
        const plan = vae.plan([...shape], { bands });
        const m = await decodeMemory(vae.gpu, vae.config, weightsOf(vae), vae.dtype, plan);
        await vae.decode(latents([...shape]), { bands });
        expect(m.activations, `${shape} bands ${bands}`).toBe(vae.lastStats!.peakBytes);
        expect(m.activations).toBeGreaterThan(0);
        expect(m.params).toBeGreaterThan(0);
      }
    } finally {
      vae.dispose();
    }
  }, 120_000);

  it('refused above the budget with the figures, before any GPU work; decoded as unbudgeted at it', async () => {
    const shape = [1, 16, 3, 8, 8];
    const free = await loadVae(nodeFolder(DIR), { gpu: gpu! });
    let need: number;
    let acts: number;
    let expected: Float32Array;
    try {
      const m = await decodeMemory(free.gpu, free.config, weightsOf(free), free.dtype, free.plan(shape));
      acts = m.activations + m.params;
      need = weightsOf(free).bytes + acts;
      expected = (await free.decode(latents(shape))).data;
    } finally {
      free.dispose();
    }
    const tight = await loadVae(nodeFolder(DIR), { gpu: gpu!, maxMemory: need - 1 });
    try {
      const e = await tight.decode(latents(shape)).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(LimitError);
      expect((e as Error).message).toBe(
        `decoding latents [1,16,3,8,8] needs ${fmtBytes(need)} on the GPU (weights ${fmtBytes(weightsOf(tight).bytes)}, frames, caches and scratch ${fmtBytes(acts)}), above the VAE's maxMemory budget of ${fmtBytes(need - 1)}: use smaller latents (height×width) or a larger maxMemory budget (${need} bytes or more)`,
      );
      expect(tight.lastStats).toBeNull(); // no decode ran
      // smaller latents fit the same budget
      expect((await tight.decode(latents([1, 16, 3, 4, 4]))).shape).toEqual([1, 3, 9, 16, 16]);
    } finally {
      tight.dispose();
    }
    const exact = await loadVae(nodeFolder(DIR), { gpu: gpu!, maxMemory: `${need}` });
    try {
      expect(Array.from((await exact.decode(latents(shape))).data)).toEqual(Array.from(expected));
    } finally {
      exact.dispose();
    }
  }, 120_000);
});
