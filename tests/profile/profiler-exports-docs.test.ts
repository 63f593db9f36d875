// tessera/profiler (audit 12 D, 11): median, formatLayerTable, ceilingKernel, copyKernel and
// WrongResultError had no docstring; medianIndex([]) returned 0, an index into an empty list.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { median, medianIndex } from '../../src/profile/profiler.js';
import * as profiler from '../../src/profiler.js';
import { ROOT } from '../helpers/golden.js';

describe('tessera/profiler exports', () => {
  it('each of the five is exported and has a /** docstring */ right above its declaration', () => {
    for (const [name, file] of [['median', 'profiler.ts'], ['formatLayerTable', 'report.ts'], ['ceilingKernel', 'ceiling.ts'], ['copyKernel', 'ceiling.ts'], ['WrongResultError', 'check.ts']] as const) {
      expect(profiler).toHaveProperty(name);
      const src = readFileSync(join(ROOT, 'src', 'profile', file), 'utf8');
      expect(src, `${name} in src/profile/${file}`).toMatch(new RegExp(`\\*/\\nexport (?:async )?(?:function|const|class) ${name}\\b`));
    }
  });
  it('medianIndex points at the sample closest to the median and refuses an empty list', () => {
    expect(medianIndex([5, 1, 3])).toBe(2);
    expect(medianIndex([4, 1, 2, 3])).toBe(2); // median 2.5: 2 and 3 tie, the first wins
    expect(median([])).toBeNaN();
    expect(() => medianIndex([])).toThrow(new RangeError('medianIndex: no samples (an empty list has no median)'));
  });
});
