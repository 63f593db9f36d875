// withLoadGpu: the device handling every loader shares (loadModel, loadRandomModel, loadVae,
// loadTextEncoder, loadPipeline). A caller's device is never destroyed; an acquired one is owned
// by what loads, and destroyed when the load fails. checkDtypeOnAdapter refuses f16 without
// shader-f16 before any upload, for the transformer and the VAE alike.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import type { Gpu } from '../../src/gpu/device.js';
import { checkDtypeOnAdapter, checkGpuOption, DtypeUnsupportedError, InputError, loadModel, withLoadGpu } from '../../src/model/model.js';
import { loadVae } from '../../src/vae/vae.js';
import { loadRandomModel, PRESETS } from '../../src/model/presets.js';
import { loadTextEncoder } from '../../src/text/prompt-encoder.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import { Umt5Encoder } from '../../src/text/umt5.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { nodeGpu } from '../../src/gpu/node.js';
import type { ModelFolder } from '../../src/io/model-folder.js';
import type { Umt5Config } from '../../src/text/config.js';

/** A device stand-in without shader-f16 that counts destroy() calls (no GPU work may reach it). */
function standIn(): Gpu & { destroyed: number } {
  const g = { f16: false, adapterInfo: { vendor: 'stand-in', architecture: '', device: '', description: '' }, destroyed: 0, destroy() { g.destroyed++; } };
  return g as unknown as Gpu & { destroyed: number };
}

describe('withLoadGpu', () => {
  it("a caller's device: passed as not owned, never destroyed, the loader's error propagates", async () => {
    const g = standIn();
    let owned: boolean | undefined;
    const e = await withLoadGpu(g, async (d, o) => {
      expect(d).toBe(g);
      owned = o;
      throw new InputError('bad');
    }).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(owned).toBe(false);
    expect(g.destroyed).toBe(0);
    expect(await withLoadGpu(g, async (_d, o) => o)).toBe(false);
  });

  it('checkDtypeOnAdapter: f16 on an adapter without shader-f16 is an InputError naming the adapter; f32 passes', () => {
    const g = standIn();
    expect(() => checkDtypeOnAdapter(g, 'f16')).toThrow(new DtypeUnsupportedError("dtype: 'f16' needs the adapter feature shader-f16, which stand-in lacks: use dtype: 'f32'"));
    expect(() => checkDtypeOnAdapter(g, 'f16')).toThrow(InputError); // a subclass: callers catching InputError still do
    expect(() => checkDtypeOnAdapter(g, 'f32')).not.toThrow();
  });

  it.skipIf(!hasGpu)('an acquired device: owned, and destroyed (device lost) when the load fails', async () => {
    let acquired: Gpu | undefined;
    const e = await withLoadGpu(undefined, async (d, owned) => {
      acquired = d;
      expect(owned).toBe(true);
      throw new Error('upload failed');
    }).catch((x) => x);
    expect((e as Error).message).toBe('upload failed');
    const info = await Promise.race([acquired!.device.lost, new Promise((r) => setTimeout(() => r('not lost'), 5000))]);
    expect((info as GPUDeviceLostInfo).reason).toBe('destroyed');
  });

  it('loadModel and loadVae refuse f16 on a device without shader-f16 before any upload, and leave the device alone', async () => {
    const g = standIn();
    const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: g, dtype: 'f16' }).catch((x) => x);
    expect(model).toBeInstanceOf(InputError);
    expect(model.message).toMatch(/^dtype: 'f16' needs the adapter feature shader-f16, which stand-in lacks/);
    const vae = await loadVae(join(FIXTURES, 'wan_vae_small', 'vae'), { gpu: g, dtype: 'f16' }).catch((x) => x);
    expect(vae).toBeInstanceOf(InputError);
    expect(vae.message).toMatch(/^dtype: 'f16' needs the adapter feature shader-f16, which stand-in lacks/);
    expect(g.destroyed).toBe(0);
  });
});

describe('checkGpuOption: a gpu that is not acquireGpu()\'s object, refused by every loader before any file is read', () => {
  const refusal = (got: string) => new InputError(`gpu: a device from acquireGpu(), got ${got}`, { option: 'gpu' });
  class Holder {}
  const cases: [string, unknown, string][] = [
    ['a plain object', { device: {}, limits: {} }, 'a plain object with keys device, limits'],
    ['an empty object', {}, 'an empty object'],
    ['null', null, 'null'],
    ['a string', 'gpu', '"gpu"'],
    ['a function', () => 0, 'a function'],
    ['an un-awaited acquireGpu()', Promise.resolve(1), 'a Promise (await acquireGpu())'],
    ['an array', [], 'an array'],
    ['a class instance', new Holder(), 'a Holder'],
    ['a GPUDevice look-alike', { createBuffer() {}, queue: {}, destroy() {}, lost: Promise.resolve() }, 'a GPUDevice'],
    ['a GPUAdapter look-alike', { requestDevice() {}, features: new Set() }, 'a GPUAdapter'],
    ['a navigator.gpu look-alike', { requestAdapter() {} }, 'a GPU (navigator.gpu)'],
  ];
  for (const [what, v, got] of cases) {
    it(`${what}: ${got}`, () => {
      expect(() => checkGpuOption(v)).toThrow(refusal(got));
    });
  }

  it('undefined passes unless required; a Gpu (or a stand-in with its fields, or a copy) passes', () => {
    expect(() => checkGpuOption(undefined)).not.toThrow();
    expect(() => checkGpuOption(undefined, true)).toThrow(refusal('undefined'));
    expect(() => checkGpuOption(standIn())).not.toThrow();
    expect(() => checkGpuOption({ ...standIn(), f16: true })).not.toThrow();
  });

  it.skipIf(!hasGpu)('the real WebGPU objects are named: GPUDevice, GPUAdapter, GPU; acquireGpu()\'s object passes', async () => {
    expect(() => checkGpuOption(gpu!.device)).toThrow(refusal('a GPUDevice'));
    const { gpu: nav } = await nodeGpu();
    expect(() => checkGpuOption(nav)).toThrow(refusal('a GPU (navigator.gpu)'));
    const adapter = await nav.requestAdapter();
    expect(() => checkGpuOption(adapter)).toThrow(refusal('a GPUAdapter'));
    expect(() => checkGpuOption(gpu)).not.toThrow();
  });

  // a folder that does not exist: had anything been read first, the error would be about the folder
  const device = { createBuffer() {}, queue: {}, destroy() {}, lost: new Promise(() => {}) };
  const none = '/nonexistent/tessera-model';
  const loaders: [string, () => Promise<unknown>][] = [
    ['loadModel', () => loadModel(none, { gpu: device as never })],
    ['loadRandomModel', () => loadRandomModel(PRESETS['dit-tiny']!.config, { gpu: device as never })],
    ['loadVae', () => loadVae(none, { gpu: device as never })],
    ['loadTextEncoder', () => loadTextEncoder({ tokenizer: nodeFolder(none), textEncoder: nodeFolder(none) }, { gpu: device as never })],
    ['loadPipeline', () => loadPipeline(none, { gpu: device as never })],
    ['Umt5Encoder.load', () => Umt5Encoder.load({ name: none } as ModelFolder, {} as Umt5Config, device as never)],
  ];
  for (const [name, load] of loaders) {
    it(`${name} refuses a GPUDevice with the one message`, async () => {
      const e = await load().catch((x) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toBe('gpu: a device from acquireGpu(), got a GPUDevice');
    });
  }
});
