// After tessera's own gpu.destroy() the Gpu says so (gpu.lost), and every loader refuses it at once
// with one GpuError saying it was destroyed, at their first allocation; a run on a model loaded before
// is refused the same way (it used to load, then fail as an unexpected device loss at the first run).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../helpers/golden.js';
import { acquireGpu, GpuError } from '../../src/gpu/device.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadModel } from '../../src/model/model.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { loadVae } from '../../src/vae/vae.js';

const PIPE = join(ROOT, 'models', 'tessera-shapes');
const DESTROYED = 'this Gpu was destroyed (gpu.destroy()): acquire a new one (acquireGpu())';

describe.skipIf(!hasGpu)('a Gpu after gpu.destroy()', () => {
  it('gpu.lost says it was destroyed, at once', async () => {
    const gpu = await acquireGpu();
    expect(gpu.lost).toBeNull();
    gpu.destroy();
    expect(gpu.lost).toBe(DESTROYED);
    await gpu.device.lost;
    expect(gpu.lost).toBe(DESTROYED);
  });

  it('loadPipeline, loadModel, loadVae and loadTextEncoder refuse it with one GpuError, at their first allocation', async () => {
    const gpu = await acquireGpu();
    gpu.destroy();
    const loads: [string, () => Promise<unknown>, string][] = [
      ['loadPipeline', () => loadPipeline(PIPE, { gpu }), 'allocating '],
      ['loadModel', () => loadModel(join(PIPE, 'transformer'), { gpu }), 'allocating '],
      ['loadVae', () => loadVae(join(PIPE, 'vae'), { gpu }), 'allocating '],
      ['loadTextEncoder', () => loadTextEncoder({ tokenizer: nodeFolder(join(PIPE, 'tokenizer')), textEncoder: nodeFolder(join(PIPE, 'text_encoder')) }, { gpu }), 'allocating '],
    ];
    for (const [name, load, while_] of loads) {
      const e = await load().catch((x: unknown) => x);
      expect(e, name).toBeInstanceOf(GpuError);
      expect((e as GpuError).kind, name).toBe('lost');
      expect((e as Error).message, name).toMatch(new RegExp(`^${DESTROYED.replace(/[()]/g, '\\$&')} \\(while ${while_}`));
    }
  }, 60_000);

  it('a model loaded before: its next forward is refused with the same line', async () => {
    const gpu = await acquireGpu();
    const model = await loadModel(join(PIPE, 'transformer'), { gpu });
    gpu.destroy();
    const c = model.config as { inChannels: number; textDim: number };
    const e = await model
      .forward({
        hidden_states: { data: new Float32Array(c.inChannels * 1 * 8 * 8), shape: [1, c.inChannels, 1, 8, 8] },
        timestep: [500],
        encoder_hidden_states: { data: new Float32Array(4 * c.textDim), shape: [1, 4, c.textDim] },
      })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GpuError);
    expect((e as Error).message).toContain(DESTROYED);
    model.dispose();
  }, 60_000);
});
