// Profiling a VAE decode like a transformer step: the decoder runs as many small recorded plans
// (frame by frame, band by band: src/vae/decoder.ts); each is timed dispatch by dispatch as it
// runs (profilePlan, one timed run, no warm-up: the decode's numbers are unchanged) and the
// pieces are joined into one ProfileRun for the same tables, timelines and traces.
import type { TensorData } from '../model/model.js';
import type { Vae } from '../vae/vae.js';
import { profilePlan, type ProfileRun } from './profiler.js';

/**
 * One ProfileRun from consecutive runs: dispatches in order, each piece's timeline shifted to
 * start where the previous one ended; totals summed, peak memory the largest (profileDecode
 * replaces it with the decoder's own peak: frames, caches and weights).
 * @throws Error when `runs` is empty.
 */
export function joinRuns(runs: readonly ProfileRun[]): ProfileRun {
  if (runs.length === 0) throw new Error('joinRuns: no runs');
  const first = runs[0]!;
  const dispatches: ProfileRun['dispatches'] = [];
  let offset = 0;
  for (const r of runs) {
    let end = 0;
    for (const d of r.dispatches) {
      dispatches.push({ ...d, samples: [...d.samples], startMs: d.startMs === null ? null : d.startMs + offset });
      if (d.startMs !== null) end = Math.max(end, d.startMs + (d.runMs ?? 0));
    }
    offset += end || r.totalMs;
  }
  const sum = (f: (r: ProfileRun) => number) => runs.reduce((a, r) => a + f(r), 0);
  const totalMs = sum((r) => r.totalMs);
  const wall = sum((r) => r.wallMs.reduce((a, b) => a + b, 0));
  return {
    ...first,
    timing: runs.every((r) => r.timing === 'gpu-timestamps') ? 'gpu-timestamps' : 'wall-clock',
    note: runs.find((r) => r.note)?.note,
    repeats: 1,
    warmup: 0,
    dispatches,
    totalMs,
    stepMs: [totalMs],
    wallMs: [wall],
    dropped: sum((r) => r.dropped),
    peakBytes: Math.max(...runs.map((r) => r.peakBytes)),
    residentBytes: Math.max(...runs.map((r) => r.residentBytes)),
  };
}

/**
 * Decodes `latents` with `vae` (its pipeline scaling included) while timing every dispatch.
 * @returns the decoder's sample (as vae.decode) and the joined profile of all its pieces.
 * @throws what vae.decode throws.
 */
export async function profileDecode(vae: Vae, latents: TensorData, opts: { forceWallClock?: boolean } = {}): Promise<{ sample: TensorData; run: ProfileRun }> {
  const runs: ProfileRun[] = [];
  const sample = await vae.decode(latents, {
    runPlan: async (plan) => {
      runs.push(await profilePlan(plan, { repeats: 1, warmup: 0, forceWallClock: opts.forceWallClock }));
    },
  });
  const run = joinRuns(runs);
  // the decoder's frames, caches and weights live outside the pieces' plans: take its own figures
  const stats = vae.lastStats;
  if (stats) {
    run.residentBytes = stats.weightBytes;
    run.peakBytes = stats.weightBytes + stats.peakBytes;
  }
  return { sample, run };
}
