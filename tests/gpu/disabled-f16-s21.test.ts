// dtype 'f16' on a device acquired with acquireGpu({ disableFeatures: ['shader-f16'] }): the refusal says the
// caller's disableFeatures turned shader-f16 off (the adapter has it), not that the adapter lacks it. acquireGpu
// records what the adapter offered (Gpu.adapterFeatures) beside what it requested (f16, timestamps, subgroups).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { acquireGpu, OPTIONAL_FEATURES, type Gpu } from '../../src/gpu/device.js';
import { checkDtypeOnAdapter, DtypeUnsupportedError, loadModel } from '../../src/model/model.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const standIn = (adapterFeatures?: GPUFeatureName[]) => ({ f16: false, adapterFeatures, adapterInfo: { vendor: 'stand-in', architecture: '', device: '', description: '' } }) as unknown as Gpu;

describe('dtype f16 on a device without shader-f16: whose doing', () => {
  it('the adapter offered shader-f16 and the device was requested without it: the caller disabled it', () => {
    const e = (() => {
      try {
        checkDtypeOnAdapter(standIn(['shader-f16', 'timestamp-query']), 'f16');
      } catch (x) {
        return x as Error;
      }
    })();
    expect(e).toBeInstanceOf(DtypeUnsupportedError);
    expect(e!.message).toBe("dtype: 'f16' needs shader-f16, which this device was acquired without: acquireGpu's disableFeatures turned it off (the adapter, stand-in, has it): acquire a GPU without disabling it, or use dtype: 'f32'");
  });

  it('an adapter without it (or one not recorded) is still the adapter that lacks it', () => {
    for (const g of [standIn(['timestamp-query']), standIn()]) {
      expect(() => checkDtypeOnAdapter(g, 'f16')).toThrow("dtype: 'f16' needs the adapter feature shader-f16, which stand-in lacks: use dtype: 'f32'");
    }
  });

  it.skipIf(!hasGpu)('acquireGpu records the optional features the adapter offers, whatever disableFeatures turned off', async () => {
    const off = await acquireGpu({ disableFeatures: ['shader-f16'] });
    try {
      expect(off.f16).toBe(false);
      expect([...(off.adapterFeatures ?? [])].sort()).toEqual([...(gpu!.adapterFeatures ?? [])].sort());
      expect(off.adapterFeatures!.every((f) => (OPTIONAL_FEATURES as readonly string[]).includes(f))).toBe(true);
      if (!gpu!.f16) return; // this adapter has no shader-f16: nothing was turned off
      expect(off.adapterFeatures).toContain('shader-f16');
      const e = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: off, dtype: 'f16' }).catch((x: Error) => x);
      expect(e).toBeInstanceOf(DtypeUnsupportedError);
      expect((e as Error).message).toMatch(/^dtype: 'f16' needs shader-f16, which this device was acquired without: acquireGpu's disableFeatures turned it off \(the adapter, .+, has it\)/);
    } finally {
      off.destroy();
    }
  });
});
