// withLoadGpu: the device handling every loader shares (loadModel, loadRandomModel, loadVae,
// loadTextEncoder, loadPipeline). A caller's device is never destroyed; an acquired one is owned
// by what loads, and destroyed when the load fails. checkDtypeOnAdapter refuses f16 without
// shader-f16 before any upload, for the transformer and the VAE alike.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import type { Gpu } from '../../src/gpu/device.js';
import { checkDtypeOnAdapter, InputError, loadModel, withLoadGpu } from '../../src/model/model.js';
import { loadVae } from '../../src/vae/vae.js';

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
    expect(() => checkDtypeOnAdapter(g, 'f16')).toThrow(new InputError("dtype: 'f16' needs the adapter feature shader-f16, which stand-in lacks: use dtype: 'f32'"));
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
