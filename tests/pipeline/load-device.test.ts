// The loaders' `device` option (issue 3's `loadModel(source, { device, dtype })`): a GPUDevice the caller already
// has, requested from its own adapter, beside `gpu` (acquireGpu()'s object). Refused, naming the option, when it is
// not a GPUDevice or comes with `gpu`, by every loader before anything is read; taken as it is (its features and
// limits) by loadModel, loadVae, loadTextEncoder and loadPipeline, whose objects run on it (the golden Wan forward
// within its tolerance on a device requested with WebGPU's defaults) and never destroy it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import type { Gpu } from '../../src/gpu/device.js';
import { nodeGpu } from '../../src/gpu/node.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { readInputs } from '../../src/io/inputs.js';
import { InputError, loadModel } from '../../src/model/model.js';
import { loadRandomModel, PRESETS } from '../../src/model/presets.js';
import { embeddedPipelinePath } from '../../src/pipeline/embedded-node.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { loadVae } from '../../src/vae/vae.js';
import { fixtureInputs, FIXTURES, loadCase } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';

// a folder that does not exist: had anything been read first, the error would be about the folder
const none = '/nonexistent/tessera-model';
const loaders: [string, (o: object) => Promise<unknown>][] = [
  ['loadModel', (o) => loadModel(none, o)],
  ['loadRandomModel', (o) => loadRandomModel(PRESETS['dit-tiny']!.config, o)],
  ['loadVae', (o) => loadVae(none, o)],
  ['loadTextEncoder', (o) => loadTextEncoder({ tokenizer: nodeFolder(none), textEncoder: nodeFolder(none) }, o)],
  ['loadPipeline', (o) => loadPipeline(none, o)],
];
const deviceLike = { createBuffer() {}, queue: {}, features: new Set(), limits: { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384, maxStorageBuffersPerShaderStage: 8 }, destroy() {}, lost: new Promise(() => {}) };
const gpuLike = { device: deviceLike, f16: false, adapterInfo: { vendor: 'stand-in', architecture: '', device: '', description: '' }, destroy() {} };

describe('device: refused, naming it, before anything is read', () => {
  const cases: [string, object, string][] = [
    ['an empty object', { device: {} }, 'device: a GPUDevice (from adapter.requestDevice()), got an empty object'],
    ['a string', { device: 'gpu' }, 'device: a GPUDevice (from adapter.requestDevice()), got "gpu"'],
    ["acquireGpu()'s object", { device: gpuLike }, "device: a GPUDevice (from adapter.requestDevice()), got acquireGpu()'s object: give it as `gpu` (or its .device as `device`)"],
    ['an un-awaited requestDevice()', { device: Promise.resolve(deviceLike) }, 'device: a GPUDevice (from adapter.requestDevice()), got a Promise (await adapter.requestDevice())'],
    ['a GPUAdapter', { device: { requestDevice() {}, features: new Set() } }, 'device: a GPUDevice (from adapter.requestDevice()), got a GPUAdapter (await adapter.requestDevice())'],
    ['below the default limits', { device: { ...deviceLike, limits: { ...deviceLike.limits, maxComputeInvocationsPerWorkgroup: 128 } } }, "device: its limit maxComputeInvocationsPerWorkgroup is 128, tessera needs at least 256 (request it in requestDevice's requiredLimits)"],
    ['with gpu', { device: deviceLike, gpu: gpuLike }, 'device and gpu: give one (device: a GPUDevice of your own; gpu: the object acquireGpu() returns)'],
    ['a GPUDevice as gpu', { gpu: deviceLike }, 'gpu: a device from acquireGpu(), got a GPUDevice: give a GPUDevice of your own as `device`'],
  ];
  for (const [name, load] of loaders) {
    it(`${name}`, async () => {
      for (const [what, o, message] of cases) {
        const e = await load(o).catch((x: unknown) => x);
        expect(e, what).toBeInstanceOf(InputError);
        expect((e as Error).message, what).toBe(message);
      }
    });
  }
});

/** A device as a caller requests it from its own adapter: WebGPU's default limits, no optional feature. */
async function ownDevice(): Promise<GPUDevice> {
  const { gpu } = await nodeGpu();
  const adapter = await gpu.requestAdapter();
  return adapter!.requestDevice();
}

/** The device still takes work (a write and a read-back): not destroyed. */
async function usable(device: GPUDevice): Promise<number> {
  const b = device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(b, 0, new Float32Array([7]));
  await b.mapAsync(GPUMapMode.READ);
  const v = new Float32Array(b.getMappedRange())[0]!;
  b.destroy();
  return v;
}

describe.skipIf(!hasGpu)('device: the loaders run on the caller\'s GPUDevice and leave it to the caller', () => {
  it('loadModel: the golden Wan forward within its tolerance; the model runs on that device, and destroy() leaves it usable', async () => {
    const device = await ownDevice();
    try {
      const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { device, dtype: 'f32' });
      expect(model.gpu.device).toBe(device);
      expect(model.gpu.f16, 'requested without shader-f16').toBe(false);
      expect(model.gpu.limits.maxStorageBufferBindingSize).toBe(device.limits.maxStorageBufferBindingSize);
      const out = await model.forward(await fixtureInputs('wan_small'));
      const exp = (await readInputs(join(FIXTURES, 'wan_small', 'expected.safetensors'))).get('sample')!;
      expect(out.shape).toEqual(exp.shape);
      let maxAbs = 0;
      let maxExp = 0;
      exp.f32!.forEach((v, i) => {
        maxAbs = Math.max(maxAbs, Math.abs(out.data[i]! - v));
        maxExp = Math.max(maxExp, Math.abs(v));
      });
      expect(maxAbs / maxExp).toBeLessThanOrEqual(loadCase('wan_small').tolerance.max);
      model.destroy();
      expect(await usable(device)).toBe(7);
      // f16 on a device requested without shader-f16: refused, naming dtype and how to request the feature
      // (it blamed the adapter, whose features may well have it)
      await expect(loadModel(join(FIXTURES, 'wan_small', 'model'), { device, dtype: 'f16' })).rejects.toThrow(
        "dtype: 'f16' needs shader-f16, and this GPUDevice was created without it: request it (adapter.requestDevice({ requiredFeatures: ['shader-f16'] }) on an adapter whose features have it) or use dtype: 'f32'",
      );
    } finally {
      device.destroy();
    }
  }, 120_000);

  it('loadPipeline, loadVae, loadTextEncoder: every component on the one device (one Gpu), dispose() leaves it usable', async () => {
    const device = await ownDevice();
    try {
      const pipe = await loadPipeline(embeddedPipelinePath(), { device });
      const g: Gpu = pipe.gpu;
      expect(g.device).toBe(device);
      expect(pipe.transformer.gpu).toBe(g);
      expect(pipe.vae!.gpu).toBe(g);
      const out = await pipe.generate({ prompt: 'a red circle moving left', seed: 3, height: 32, width: 32, num_frames: 9, num_inference_steps: 1, output_type: 'latent' });
      expect(out.latents.data.every(Number.isFinite)).toBe(true);
      pipe.dispose();
      expect(await usable(device)).toBe(7);
      const vae = await loadVae(join(embeddedPipelinePath(), 'vae'), { device });
      expect(vae.gpu).toBe(g);
      vae.dispose();
      const enc = await loadTextEncoder(embeddedPipelinePath(), { device });
      const emb = await enc.encodePrompt(['a red circle moving left'], { max_sequence_length: 8 });
      expect(emb.shape.slice(0, 2)).toEqual([1, 8]);
      enc.dispose();
      expect(await usable(device)).toBe(7);
    } finally {
      device.destroy();
    }
  }, 300_000);
});
