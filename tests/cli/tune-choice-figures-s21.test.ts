// `tessera tune`'s figures beside a choice support it (session 21's fresh user, finding 2): the per-round ratio that
// decided comes first and says so; the ms are labelled as each candidate's fastest round, not the same rounds (the
// user read sr32's 31.79 ms beside sr16's 28.22 ms as contradicting the choice of sr32 at 0.71).
import { describe, expect, it } from 'vitest';
import { choiceFigures, gemmChoiceLine, keptNote } from '../../src/cli/cmd-tune.js';

const entry = {
  choice: 'subgroup-sr32',
  ms: { 'subgroup-sr16': 28.22, 'subgroup-sr32': 31.79, 'subgroup-sr32-k': 27.45, 'subgroup-sr32-swg32-k': 27.61 },
  ratio: { 'subgroup-sr16': 1, 'subgroup-sr32': 0.71, 'subgroup-sr32-k': 0.88, 'subgroup-sr32-swg32-k': 0.82 },
};

describe('choiceFigures', () => {
  it('the ratio first, labelled as what decided; then the ms, labelled', () => {
    expect(choiceFigures(entry)).toBe(
      "time per round over subgroup-sr16's (what decided): subgroup-sr32 0.71, subgroup-sr32-k 0.88, subgroup-sr32-swg32-k 0.82; fastest round of each (not the same rounds): subgroup-sr16 28.22 ms, subgroup-sr32 31.79 ms, subgroup-sr32-k 27.45 ms, subgroup-sr32-swg32-k 27.61 ms",
    );
    expect(keptNote({ ...entry, verdict: {}, rounds: {} })).toBe(''); // the choice is not the reference: nothing kept to explain
  });
  it('an entry cached without ratios: the ms alone, labelled', () => {
    expect(choiceFigures({ ms: { a: 1.5, b: 2 } })).toBe('fastest round of each: a 1.50 ms, b 2.00 ms');
  });
});

// the line's shape in its bucket's order (M N K), not --shapes' M×K×N beside the bucket's M… N… K… (finding 2's second half)
describe('gemmChoiceLine', () => {
  it('the shape and its bucket in one order, M N K', () => {
    const line = gemmChoiceLine(1024, 384, 1536, { bucket: 'f32 M1024 N2048 K512 SWG64x4', entry: { ...entry, date: '', shapes: '' }, measured: true });
    expect(line).toMatch(/^gemm M1024 N1536 K384 \[f32 M1024 N2048 K512 SWG64x4\] → subgroup-sr32 = .*\(time per round over subgroup-sr16's \(what decided\): /);
    expect(line).not.toContain('×');
    expect(gemmChoiceLine(1024, 384, 1536, { bucket: 'f32 M1024 N2048 K512 SWG64x4', entry: { ...entry, date: '', shapes: '' }, measured: false })).toMatch(/^gemm M1024 N1536 K384 \[.*\] → subgroup-sr32 = .*  \(cached\)$/);
  });
});
