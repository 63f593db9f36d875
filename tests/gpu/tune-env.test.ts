// TESSERA_TUNE and TESSERA_TUNE_MIN_FLOPS: a value tessera cannot read is refused with a TuneEnvError
// naming the variable, the value and the accepted values (it was silently read as the default:
// TESSERA_TUNE=OFF tuned). Unset or blank reads as the default. No device needed.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultTuneMode, implicitTuneMinFlops, setDefaultTuneMode, TUNE_MIN_FLOPS, TuneEnvError } from '../../src/gpu/tune.js';
import { thrown } from '../helpers/errors.js';

const saved = { mode: process.env.TESSERA_TUNE, floor: process.env.TESSERA_TUNE_MIN_FLOPS };
const restore = (name: string, v: string | undefined) => (v === undefined ? delete process.env[name] : (process.env[name] = v));

describe('the tuning environment variables', () => {
  afterEach(() => {
    restore('TESSERA_TUNE', saved.mode);
    restore('TESSERA_TUNE_MIN_FLOPS', saved.floor);
  });

  it('TESSERA_TUNE: off, cached or auto; unset or blank: auto; anything else a TuneEnvError', () => {
    for (const m of ['off', 'cached', 'auto'] as const) {
      process.env.TESSERA_TUNE = m;
      expect(defaultTuneMode()).toBe(m);
    }
    for (const blank of ['', '  ']) {
      process.env.TESSERA_TUNE = blank;
      expect(defaultTuneMode()).toBe('auto');
    }
    delete process.env.TESSERA_TUNE;
    expect(defaultTuneMode()).toBe('auto');
    for (const v of ['bogus', 'OFF', 'of', '0']) {
      process.env.TESSERA_TUNE = v;
      const e = thrown(() => defaultTuneMode(), TuneEnvError);
      expect(e.name).toBe('TuneEnvError');
      expect(e.message).toBe(`TESSERA_TUNE: "${v}" is not a tuning mode; expected off, cached or auto (lower case; unset: auto)`);
    }
  });

  it('a mode set in the program wins over TESSERA_TUNE, which is then not read', () => {
    process.env.TESSERA_TUNE = 'bogus';
    setDefaultTuneMode('cached');
    try {
      expect(defaultTuneMode()).toBe('cached');
    } finally {
      setDefaultTuneMode(null);
    }
    expect(() => defaultTuneMode()).toThrow(TuneEnvError);
  });

  it('TESSERA_TUNE_MIN_FLOPS: a finite number ≥ 0; unset or blank: 2^24; anything else a TuneEnvError', () => {
    for (const [v, want] of [['0', 0], ['1e9', 1e9], ['16777216', 2 ** 24], [' 5 ', 5], ['', TUNE_MIN_FLOPS], [' ', TUNE_MIN_FLOPS]] as const) {
      process.env.TESSERA_TUNE_MIN_FLOPS = v;
      expect(implicitTuneMinFlops(), JSON.stringify(v)).toBe(want);
    }
    delete process.env.TESSERA_TUNE_MIN_FLOPS;
    expect(implicitTuneMinFlops()).toBe(TUNE_MIN_FLOPS);
    for (const v of ['abc', '-1', 'Infinity', 'NaN', '2GiB']) {
      process.env.TESSERA_TUNE_MIN_FLOPS = v;
      const e = thrown(() => implicitTuneMinFlops(), TuneEnvError);
      expect(e.message).toBe(`TESSERA_TUNE_MIN_FLOPS: "${v}" is not a number of FLOPs; expected a number ≥ 0 such as 0 or 1e7 (unset: 2^24 = 16777216)`);
    }
  });
});
