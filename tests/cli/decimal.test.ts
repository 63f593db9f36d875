// parseDecimal: the one reading of typed numbers behind the CLI's number flags and TESSERA_TUNE_MIN_FLOPS.
import { describe, expect, it } from 'vitest';
import { parseDecimal } from '../../src/decimal.js';

describe('parseDecimal', () => {
  it.each([['4', 4], [' 0.5 ', 0.5], ['.5', 0.5], ['5.', 5], ['1e-3', 1e-3], ['2E+9', 2e9], ['-0.5', -0.5]])('%j → %d', (t, n) => {
    expect(parseDecimal(t)).toBe(n);
  });
  it.each(['0x10', '0b11', '0o7', '+5', 'Infinity', 'NaN', '1e999', '', '1_000', '1,5', 'e5'])('%j is refused', (t) => {
    expect(parseDecimal(t)).toBeUndefined();
  });
  it('no minus sign unless signed', () => {
    expect(parseDecimal('-1', false)).toBeUndefined();
    expect(parseDecimal('-0', false)).toBeUndefined();
    expect(parseDecimal('7', false)).toBe(7);
  });
});
