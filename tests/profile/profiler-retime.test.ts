// The profiler page's "Re-time only" of a kernel edit (examples/profiler/retime.ts, EditChecker's `retime`): the
// before → after summary in the page's words (per round totals, the spread, the verdict), the one-line refusals,
// and in Node on the test GPU the replay itself: each dispatch of the kernel timed with the previous source and
// the edit over the rounds asked, the check still made, the plan's buffers as they were.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { retimeRefusal, retimeSummary, retimeText, spread, spreadVerdict, RETIME_LINES } from '../../examples/profiler/retime.js';
import { EditChecker } from '../../examples/profiler/edit-check.js';
import { layernormWorkload } from '../../src/profile/workloads.js';
import { kernelSource } from '../../src/gpu/shader.js';
import { readTensor } from '../../src/gpu/tensor.js';
import '../../src/ops/all.js';

describe('re-time only: the before → after summary', () => {
  it('sums each round over the dispatches: the range of those totals, the sum of the dispatch medians, the per-round ratio', () => {
    const s = retimeSummary([
      { kernel: 'elementwise[ADD]', layer: 'blocks.0.ffn', where: 'denoising step', before: [1, 1.2, 1.1], after: [0.5, 0.6, 0.55] },
      { kernel: 'elementwise[MUL]', layer: 'blocks.1.ffn', before: [2, 2.2, 2.1], after: [1, 1.1, 1.05] },
    ]);
    expect(s.total.before).toEqual({ ms: 3.2, lo: 3, hi: 3.4000000000000004, repeats: 3 });
    expect(s.total.after.ms).toBeCloseTo(1.6, 12);
    expect(s.ratio.ms).toBeCloseTo(0.5, 12);
    expect(s.verdict).toBe('faster by 50.0 % (ranges do not overlap)');
    expect(s.slower).toBe(false);
    expect(s.dispatches[0]).toMatchObject({ kernel: 'elementwise[ADD]', where: 'denoising step', before: { ms: 1.1, lo: 1, hi: 1.2, repeats: 3 } });
    expect(s.dispatches[1]!.where).toBeUndefined();
  });

  // session 23's bench review: a comment-only edit of norm (9 dispatches, 5 rounds) read 40–60 % slower on its first
  // re-time: outliers in a few dispatches of the after side raised three of the five round totals, and so their median
  it('the total is the sum of the dispatch medians: outliers in single dispatches of a few rounds do not move it', () => {
    const same = [1, 1, 1, 1, 1];
    const ts = Array.from({ length: 9 }, (_, i) => ({ kernel: 'norm', layer: `blocks.${i}`, before: [...same], after: [...same] }));
    // one slow dispatch in rounds 0, 2 and 4 of the after side (a different dispatch each time)
    ts[1]!.after[0] = 6.5;
    ts[4]!.after[2] = 5;
    ts[7]!.after[4] = 4;
    const s = retimeSummary(ts);
    expect(s.total.before).toEqual({ ms: 9, lo: 9, hi: 9, repeats: 5 });
    expect(s.total.after).toEqual({ ms: 9, lo: 9, hi: 14.5, repeats: 5 }); // the median round total is 12: ×1.33 for the same kernel
    expect(s.verdict).toBe('the ranges overlap: no change beyond the run-to-run spread');
    expect(s.slower).toBe(false);
    expect(retimeText('norm', s, { run: 1, timing: 'gpu-timestamps' })[1]).toMatch(/^norm, its 9 dispatches in total: before 9\.000 ms \(round totals 9\.000–9\.000\) → after 9\.000 ms \(round totals 9\.000–14\.500\) over 5 rounds; the ranges overlap/);
  });

  it('overlapping ranges: no change beyond the spread; a slower edit is flagged; one round gives no verdict', () => {
    expect(retimeSummary([{ kernel: 'k', layer: '', before: [1, 2], after: [1.5, 2.5] }]).verdict).toBe('the ranges overlap: no change beyond the run-to-run spread');
    const slow = retimeSummary([{ kernel: 'k', layer: '', before: [1, 1.1], after: [2, 2.1] }]);
    expect(slow).toMatchObject({ slower: true, verdict: 'slower by 95.2 % (ranges do not overlap)' });
    expect(spreadVerdict(spread([1]), spread([2]))).toMatch(/^one timed repeat: no spread/);
  });

  it('refuses mismatched rounds and an empty replay, naming the dispatch', () => {
    expect(() => retimeSummary([])).toThrow('retimeSummary: no replayed dispatch');
    expect(() => retimeSummary([{ kernel: 'k', layer: 'l', before: [1, 2], after: [1] }])).toThrow('retimeSummary: k (l) has 2 before and 1 after rounds, expected 2 of each');
  });

  it('the log says the clip was not re-rendered and how it was timed; lists the slowest dispatches, counts the rest', () => {
    const ts = Array.from({ length: RETIME_LINES + 3 }, (_, i) => ({ kernel: 'conv', layer: `up.${i}`, before: [i + 1, i + 1.5], after: [i + 1, i + 1.5] }));
    const lines = retimeText('conv', retimeSummary(ts), { run: 2, timing: 'wall-clock', why: 'the adapter lacks timestamp-query' });
    expect(lines[0]).toBe(
      `re-timed only — the clip was NOT re-rendered: run 2's 15 dispatches of conv replayed on their recorded inputs with the previous source and the edit, interleaved over 2 rounds ` +
        '(wall clock, each dispatch submitted alone and awaited (overhead included; the adapter lacks timestamp-query)). ' +
        "A total is the sum of the dispatches' medians (one slow outlier does not move it); its round totals are each round's sum over the dispatches, lowest–highest.",
    );
    expect(lines[1]).toMatch(/^conv, its 15 dispatches in total: before 123\.750 ms \(round totals 120\.000–127\.500\) → after 123\.750 ms \(round totals 120\.000–127\.500\) over 2 rounds; the ranges overlap: no change beyond the run-to-run spread; after\/before per round 1\.000 \(1\.000–1\.000\)$/);
    expect(lines).toHaveLength(2 + RETIME_LINES + 1);
    expect(lines[2]).toBe('  #4 conv (up.3): before 4.250 ms (4.000–4.500) → after 4.250 ms (4.000–4.500); the ranges overlap: no change beyond the run-to-run spread');
    expect(lines.at(-1)).toBe(`  … and 3 more (the ${RETIME_LINES} slowest before are listed)`);
  });

  it('refusals: no run yet, a kernel the run does not dispatch; none when there is something to replay', () => {
    expect(retimeRefusal('elementwise', { run: 0, dispatches: 0 })).toBe('Not re-timed: there is no run to replay yet; generate a clip first (or "Recompile & re-time", which the next run uses). Nothing was compiled.');
    expect(retimeRefusal('rope', { run: 3, dispatches: 0 })).toBe('Not re-timed: run 3 has no dispatch of rope to replay; "Recompile & re-time" compiles it and re-runs the clip. Nothing was compiled.');
    expect(retimeRefusal('rope', { run: 3, dispatches: 4 })).toBeNull();
  });
});

describe.skipIf(!hasGpu)('re-time only: the replay on the GPU', () => {
  it("times every dispatch of the kernel over the rounds asked, checks it, and leaves the plan's output as it was", async () => {
    const w = layernormWorkload(gpu!, { rows: 16, cols: 64, dtype: 'f32' });
    try {
      await w.plan.run('before');
      const out = await readTensor(gpu!, w.out);
      const shipped = kernelSource('norm');
      const n = w.plan.dispatches.filter((d) => d.kernel.startsWith('norm')).length;
      for (const timestamps of gpu!.timestamps ? [true, false] : [false]) {
        const c = new EditChecker(gpu!, 'norm', shipped, `// a comment\n${shipped}`, { before: shipped, rounds: 3, timestamps });
        await c.plan(w.plan);
        const r = c.result();
        expect(r).toMatchObject({ checked: n, wrong: [] });
        expect(r.timed, String(timestamps)).toHaveLength(n);
        for (const t of r.timed!) {
          expect(t.kernel).toMatch(/^norm/);
          expect(t.before).toHaveLength(3);
          expect(t.after).toHaveLength(3);
          for (const x of [...t.before, ...t.after]) expect(x).toBeGreaterThanOrEqual(0);
        }
        expect(retimeSummary(r.timed!).total.before.repeats).toBe(3);
        expect(Array.from(await readTensor(gpu!, w.out))).toEqual(Array.from(out));
      }
      // the page's Stop button: an aborted signal stops the replay before its first dispatch, the plan's output as it was
      const stop = new AbortController();
      stop.abort(new Error('the Stop button'));
      const stopped = new EditChecker(gpu!, 'norm', shipped, `// a comment\n${shipped}`, { before: shipped, rounds: 3, timestamps: false, signal: stop.signal });
      await expect(stopped.plan(w.plan)).rejects.toMatchObject({ name: 'AbortError', message: `re-time of norm, before dispatch 1/${n}: aborted (the Stop button)` });
      expect(stopped.result()).toMatchObject({ checked: 0, timed: [] });
      expect(Array.from(await readTensor(gpu!, w.out))).toEqual(Array.from(out));
      // without `retime` no times are taken
      const plain = new EditChecker(gpu!, 'norm', shipped, shipped);
      await plain.plan(w.plan);
      expect(plain.result().timed).toBeUndefined();
    } finally {
      w.destroy();
    }
  });
});
