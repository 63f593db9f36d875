// generate()'s per-step read of the non-finite flag (sampler_nonfinite_flag_read) waits through gpuWait, as
// waitIdle and readTensor do (tests/gpu/gpu-wait.test.ts): Dawn's busy wait in Node on a CPU adapter would take
// a core from the driver. The read comes right after the queue is idle, so it is short; here its mapAsync is
// held back 40 ms (the buffer's own mapAsync, then a timer), and gpuWait's poll must have slept meanwhile. Checked
// by counting sleeps, never by how long anything took.
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { gpuWaitSleeps } from '../../src/gpu/device.js';
import { getPreset, loadRandomModel } from '../../src/model/presets.js';
import { generate } from '../../src/sampler/generate.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const L = 7;
const emb = (seed: number) => ({ data: Float32Array.from({ length: L * 64 }, (_, i) => Math.sin(i * 0.3 + seed)), shape: [1, L, 64] });

describe.skipIf(!hasGpu)("generate(): the non-finite flag's read-back", () => {
  it('waits through gpuWait: its poll sleeps while the map is pending', async () => {
    const g = gpu!;
    const model = await loadRandomModel(getPreset('wan-tiny').config, { gpu: g, dtype: 'f32', seed: 1 });
    const probe = g.device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const proto = Object.getPrototypeOf(probe) as { mapAsync: GPUBuffer['mapAsync'] };
    probe.destroy();
    const mapAsync = proto.mapAsync;
    const slept: number[] = [];
    proto.mapAsync = function (this: GPUBuffer, ...args: Parameters<GPUBuffer['mapAsync']>) {
      const p = mapAsync.apply(this, args);
      if (this.label !== 'sampler_nonfinite_flag_read') return p;
      const before = gpuWaitSleeps();
      return p.then(() => new Promise<undefined>((r) => setTimeout(r, 40))).then(() => void slept.push(gpuWaitSleeps() - before));
    };
    try {
      const r = await generate(model, { scheduler: 'unipc', seed: 3, shape: [1, 16, 3, 6, 10], num_inference_steps: 2, guidance_scale: 5, prompt_embeds: emb(1), negative_prompt_embeds: emb(2) });
      expect(r.latents.shape).toEqual([1, 16, 3, 6, 10]);
      expect(slept).toHaveLength(2); // one read a step
      if (g.isCpu) expect(Math.min(...slept)).toBeGreaterThan(0);
    } finally {
      proto.mapAsync = mapAsync;
      model.dispose();
    }
  });
});
