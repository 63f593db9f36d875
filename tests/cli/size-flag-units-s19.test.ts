// A size flag's number with no unit is bytes: `--max-memory 2` was a budget of 2 bytes, refused later as a LimitError
// ("above the budget of 2 B") after the weights were planned. One rule for every size the CLI takes (--max-memory,
// TESSERA_MAX_GPU_MEMORY, bench plan's --max-binding): a bare number under 1 MiB is a UsageError asking for a unit;
// a unit (B included) says a small size on purpose, and bare numbers from 1 MiB up stay bytes (the CLI's own
// "give --max-memory N or more" suggestions).
import { afterEach, describe, expect, it } from 'vitest';
import { maxMemory, sizeFlag } from '../../src/cli/outputs.js';
import { UsageError, type Parsed } from '../../src/cli/args.js';
import { thrown } from '../helpers/errors.js';
import { parseSize } from '../../src/model/memory.js';

const flag = (v: string) => ({ 'max-memory': v }) as unknown as Parsed;

describe('size flags: a bare number under 1 MiB needs a unit', () => {
  const env = process.env.TESSERA_MAX_GPU_MEMORY;
  afterEach(() => {
    if (env === undefined) delete process.env.TESSERA_MAX_GPU_MEMORY;
    else process.env.TESSERA_MAX_GPU_MEMORY = env;
  });

  it('--max-memory 2: one UsageError line naming the flag, the bytes it would be and the unit to add', () => {
    expect(thrown(() => maxMemory(flag('2')), UsageError).message).toBe('--max-memory: "2" has no unit, so it is 2 bytes: give a unit, e.g. 2GiB or 2MiB (a number alone is bytes, and must be 1 MiB or more; write 2B for bytes)');
    expect(thrown(() => maxMemory(flag('1048575')), UsageError).message).toMatch(/^--max-memory: "1048575" has no unit, so it is 1048575 bytes/);
  });

  it('the variable and --max-binding by the same rule', () => {
    process.env.TESSERA_MAX_GPU_MEMORY = '16';
    expect(thrown(() => maxMemory({} as Parsed), UsageError).message).toMatch(/^TESSERA_MAX_GPU_MEMORY: "16" has no unit/);
    expect(thrown(() => sizeFlag('1', '--max-binding'), UsageError).message).toMatch(/^--max-binding: "1" has no unit, so it is 1 byte:/);
  });

  it('a unit, or a bare number from 1 MiB up, is taken as before', () => {
    expect(maxMemory(flag('2B'))).toBe(2);
    expect(maxMemory(flag('1KiB'))).toBe(1024);
    expect(maxMemory(flag('1048576'))).toBe(1048576);
    expect(maxMemory(flag('1e9'))).toBe(1e9);
    expect(maxMemory(flag('2GiB'))).toBe(2 * 2 ** 30);
    // under a byte is still parseBytes' own refusal
    expect(thrown(() => maxMemory(flag('0.5')), UsageError).message).toBe('--max-memory: not a positive memory size: "0.5"');
  });
});

describe("parseSize: parseBytes' reading and whether a unit was given (sizeFlag's one parse)", () => {
  it('a number alone has no unit, whatever its form; B and the binary units are units', () => {
    for (const v of ['2', ' 2 ', '1e9', '2.5e+3', '1048575']) expect(parseSize(v).unit, v).toBe(false);
    expect(parseSize('2B')).toEqual({ bytes: 2, unit: true });
    expect(parseSize(' 3 KiB ')).toEqual({ bytes: 3072, unit: true });
    expect(parseSize('1.5g')).toEqual({ bytes: 1.5 * 2 ** 30, unit: true });
    expect(parseSize('2.5e+3')).toEqual({ bytes: 2500, unit: false });
  });
});
