// Weights tessera cannot read (FP8, integer-quantized checkpoints) are an unsupported dtype,
// named with the tensors, not "the weights do not match config.json".
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/model/config.js';
import { getPreset } from '../../src/model/presets.js';
import { checkKeys, expectedKeys, WeightError } from '../../src/model/weights.js';

describe('weight dtypes', () => {
  const want = expectedKeys(parseConfig(getPreset('dit-tiny').config));
  const have = () => new Map([...want].map(([k, shape]) => [k, { shape, dtype: 'F32' }]));

  it('FP8 weights: an unsupported dtype naming the tensors', () => {
    const h = have();
    const [k1, k2] = [...want.keys()];
    h.set(k1!, { ...h.get(k1!)!, dtype: 'F8_E4M3' });
    h.set(k2!, { ...h.get(k2!)!, dtype: 'F8_E5M2' });
    let err: unknown;
    try {
      checkKeys('m', h, want);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeightError);
    const msg = (err as Error).message;
    expect(msg).toMatch(new RegExp(`^m: unsupported weight dtype F8_E4M3, F8_E5M2 in 2 tensors \\(${k1!.replace(/\./g, '\\.')} is F8_E4M3, ${k2!.replace(/\./g, '\\.')} is F8_E5M2\\): tessera reads F32, F16, BF16 and F64 weights`));
    expect(msg).not.toMatch(/do not match config\.json/);
  });

  it('a wrong dtype together with missing keys is still reported as a mismatch, dtype included', () => {
    const h = have();
    const [k1, k2] = [...want.keys()];
    h.set(k1!, { ...h.get(k1!)!, dtype: 'I8' });
    h.delete(k2!);
    expect(() => checkKeys('m', h, want)).toThrow(/do not match config\.json: missing keys: .*; unsupported dtypes \(need F32\/F16\/BF16\/F64\): .* is I8/);
  });

  it('F32, F16 and BF16 pass', () => {
    const h = have();
    const ks = [...want.keys()];
    h.set(ks[0]!, { ...h.get(ks[0]!)!, dtype: 'F16' });
    h.set(ks[1]!, { ...h.get(ks[1]!)!, dtype: 'BF16' });
    expect(() => checkKeys('m', h, want)).not.toThrow();
  });
});
