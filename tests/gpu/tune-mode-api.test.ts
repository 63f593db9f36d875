// The tuning mode from code, for pages (no TESSERA_TUNE in a browser): setDefaultTuneMode, setTuneMode and
// tuneMode are exported by both entries of `tessera`. They were exported by neither, so a page could not turn
// off the candidate timing of a first call (minutes on a CPU adapter) short of importing tessera's sources.
import { afterAll, describe, expect, it } from 'vitest';
import * as browserEntry from '../../src/index.browser.js';
import * as nodeEntry from '../../src/index.js';
import * as tune from '../../src/gpu/tune.js';
import type { Gpu } from '../../src/gpu/device.js';

// the modes are kept per GPUDevice: any object stands in for one here
const gpuA = { device: {} } as unknown as Gpu;
const gpuB = { device: {} } as unknown as Gpu;
const env = process.env.TESSERA_TUNE;

afterAll(() => {
  tune.setDefaultTuneMode(null);
  if (env === undefined) delete process.env.TESSERA_TUNE;
  else process.env.TESSERA_TUNE = env;
});

describe('the tuning mode, set from code', () => {
  it("both entries export setDefaultTuneMode, setTuneMode and tuneMode (tessera's own)", () => {
    for (const entry of [browserEntry, nodeEntry]) {
      expect(entry.setDefaultTuneMode).toBe(tune.setDefaultTuneMode);
      expect(entry.setTuneMode).toBe(tune.setTuneMode);
      expect(entry.tuneMode).toBe(tune.tuneMode);
    }
  });

  it("the default (a page's way: no environment) applies to every device without its own; null goes back to TESSERA_TUNE, else 'auto'", () => {
    delete process.env.TESSERA_TUNE; // as in a browser
    const { setDefaultTuneMode, setTuneMode, tuneMode } = browserEntry;
    expect(tuneMode(gpuA)).toBe('auto');
    setDefaultTuneMode('off');
    expect([tuneMode(gpuA), tuneMode(gpuB)]).toEqual(['off', 'off']);
    setTuneMode(gpuB, 'cached');
    expect([tuneMode(gpuA), tuneMode(gpuB)]).toEqual(['off', 'cached']);
    setDefaultTuneMode(null);
    expect([tuneMode(gpuA), tuneMode(gpuB)]).toEqual(['auto', 'cached']);
    process.env.TESSERA_TUNE = 'off';
    expect(tuneMode(gpuA)).toBe('off');
  });

  it('a mode that is not one (a JavaScript caller\'s typo) is refused naming the call and the modes', () => {
    const { setDefaultTuneMode, setTuneMode } = browserEntry;
    expect(() => setDefaultTuneMode('of' as never)).toThrow(new TypeError(`setDefaultTuneMode: "of" is not a tuning mode; expected 'off', 'cached' or 'auto' (null: back to TESSERA_TUNE, else auto)`));
    expect(() => setTuneMode(gpuA, undefined as never)).toThrow(new TypeError(`setTuneMode: undefined is not a tuning mode; expected 'off', 'cached' or 'auto'`));
    expect(() => setTuneMode(gpuA, null as never)).toThrow(TypeError);
  });
});
