// Mutation test (round 3) for nearestName's letters fallback (src/cli/args.ts): a transposition typed in
// another case (--STPES, --Stpes) still finds --steps; its letters are compared case-blind, as closestName
// compares spellings.
import { describe, expect, it } from 'vitest';
import { nearestName } from '../../src/cli/args.js';

describe('nearestName: a transposition in another case', () => {
  it.each(['stpes', 'Stpes', 'STPES'])('%s -> steps', (typed) => {
    expect(nearestName(typed, ['steps', 'seed', 'shift', 'scheduler'])).toBe('steps');
  });
});
