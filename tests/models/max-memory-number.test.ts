// checkLoadOptions: a numeric maxMemory under one byte is refused as the string form is (parseBytes), not
// accepted and then failed as a "budget of 0.5 B" LimitError at the first allocation.
import { describe, expect, it } from 'vitest';
import { checkLoadOptions, InputError } from '../../src/model/model.js';
import { thrown } from '../helpers/errors.js';

describe('checkLoadOptions maxMemory as a number', () => {
  it('under one byte: InputError with the wording parseBytes uses', () => {
    for (const m of [0.5, 1e-3, 0.999]) {
      expect(thrown(() => checkLoadOptions({ maxMemory: m }), InputError).message).toBe(`maxMemory: not a positive memory size: ${m}`);
    }
    expect(thrown(() => checkLoadOptions({ maxMemory: '0.5' }), InputError).message).toBe('maxMemory: not a positive memory size: "0.5"');
  });

  it('whole bytes, rounded down as parseBytes does; zero, negatives and non-finite keep their line', () => {
    expect(checkLoadOptions({ maxMemory: 1 })).toEqual({ maxMemory: 1 });
    expect(checkLoadOptions({ maxMemory: 1.5 })).toEqual({ maxMemory: 1 });
    expect(checkLoadOptions({ maxMemory: 4096 })).toEqual({ maxMemory: 4096 });
    for (const m of [0, -1, Infinity]) {
      expect(thrown(() => checkLoadOptions({ maxMemory: m }), InputError).message).toBe(`maxMemory: a number of bytes > 0 or a size such as "2GiB", got ${m}`);
    }
  });
});
