// Session 23 bench review #6, #8 and #10 (last item), on one `tessera bench model --json --trace` run of dit-tiny:
// - peak_bytes is one figure in the JSON and the trace (weights + activations; the trace had activations only), with
//   resident_bytes and peak_activation_bytes apart in both;
// - the trace's times are µs rounded to the ns (no 559.4259999999999), its display unit ms for a step of ms;
// - the text report states the ceiling its shares are of (GFLOP/s and GB/s), as block, gemm and suite do.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { printModelResult, type ModelBenchResult } from '../../src/cli/bench-model.js';
import type { ChromeTrace, TraceRunData } from '../../src/profile/report.js';
import { tesseraCli } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';

describe.skipIf(!hasGpu)('bench model --json --trace: one peak_bytes, rounded times, the ceiling in the text', () => {
  it('dit-tiny, 2 repeats, ceiling on', async () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'tessera-s24-trace-')), 't.json');
    const r = await tesseraCli(['bench', 'model', '--preset', 'dit-tiny', '--json', '--repeats', '2', '--warmup', '0', '--no-wall', '--trace', trace]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as ModelBenchResult;
    const t = JSON.parse(readFileSync(trace, 'utf8')) as ChromeTrace;
    const run = (t.otherData.runs as TraceRunData[])[0]!;
    expect([run.peak_bytes, run.resident_bytes, run.peak_activation_bytes], 'trace = JSON').toEqual([j.peak_bytes, j.resident_bytes, j.peak_activation_bytes]);
    expect(j.peak_bytes).toBe(j.resident_bytes + j.peak_activation_bytes);
    // a DiT has no text part: what the step reads beside its own buffers is the weights
    expect(j.resident_bytes).toBe(j.weight_bytes);
    expect(j.peak_activation_bytes).toBeGreaterThan(0);
    expect(run.step_median_ms).toBeCloseTo(j.median_ms, 5);
    expect(run).not.toHaveProperty('total_ms');
    for (const e of t.traceEvents) for (const v of [e.ts, e.dur ?? 0]) expect(Math.round(v * 1000) / 1000, `${e.name} ${v}`).toBe(v);
    expect(t.displayTimeUnit, `a ${j.median_ms} ms step`).toBe(j.median_ms >= 1 ? 'ms' : 'ns');
    // the text report of this result: the ceiling used, and the memory in its parts
    expect(j.ceiling_used).not.toBeNull();
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    try {
      printModelResult({ json: false, dtype: 'f32', repeats: 2, warmup: 0, wall: false }, j);
    } finally {
      spy.mockRestore();
    }
    const text = lines.join('\n');
    expect(text).toContain(`of ${j.ceiling_used!.fma_gflops.toFixed(2)} GFLOP/s, ${j.ceiling_used!.copy_gbps.toFixed(2)} GB/s)`);
    expect(text).toMatch(/peak GPU memory [\d.]+ [KM]iB = resident [\d.]+ [KM]iB \(weights [\d.]+ [KM]iB\) \+ activations [\d.]+ [KM]iB/);
  }, 180_000);
});
