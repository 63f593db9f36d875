// Times one DiT block (D=384, H=6, T=1024, f32; checked against float64 first) and one wan-tiny
// denoising step (the demo's plan, CFG batch 2) in this checkout, and prints one JSON line:
// per workload the medians over rounds of GPU time (sum of per-dispatch timestamps), wall clock of
// a plain run, and CPU time of lavapipe's worker threads (schedstat; on a CPU adapter the least
// disturbed by other jobs). Run it in two checkouts alternately for a before/after of changes
// that touch op code as well as kernels (scripts/fused-ab.ts swaps kernel sources only).
//   XDG_RUNTIME_DIR=/tmp npx tsx scripts/step-time.ts [rounds]
import '../src/gpu/node.js';
import { readdirSync, readFileSync } from 'node:fs';
import { acquireGpu } from '../src/gpu/device.js';
import { getPreset, loadRandomModel } from '../src/model/presets.js';
import { median, profilePlan } from '../src/profile/profiler.js';
import { assertCheck, blockWorkload } from '../src/profile/workloads.js';
import { randn } from '../src/random.js';
import type { Plan } from '../src/gpu/plan.js';

const rounds = Number(process.argv[2] ?? 5);
const gpu = await acquireGpu();
const block = blockWorkload(gpu, { hidden: 384, heads: 6, tokens: 1024, mlpRatio: 4, dtype: 'f32' });
assertCheck('block', await block.check());
const preset = getPreset('wan-tiny');
const model = await loadRandomModel(preset.config, { gpu, dtype: 'f32', seed: 0, name: 'wan-tiny' });
const c = model.config as { inChannels: number; textDim: number };
const { frames, height, width } = preset.latent;
const L = preset.textLen ?? 8;
const shape = [2, c.inChannels, frames, height, width];
const step = model.planFor({
  hidden_states: { data: randn(shape.reduce((a, b) => a * b, 1), 7, 1), shape },
  timestep: [500, 500],
  encoder_hidden_states: { data: randn(2 * L * c.textDim, 8, 1), shape: [2, L, c.textDim] },
});

const threadNs = () => new Map(readdirSync('/proc/self/task').map((t) => {
  try { return [t, Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0])] as const; } catch { return [t, 0] as const; }
}));
const a0 = threadNs();
for (let i = 0; i < 2; i++) await block.plan.run('calibrate');
const a1 = threadNs();
const d = [...a1].filter(([t]) => t !== String(process.pid)).map(([t, v]) => [t, v - (a0.get(t) ?? 0)] as const);
const max = Math.max(...d.map(([, v]) => v));
const workers = d.filter(([, v]) => v >= 0.25 * max).map(([t]) => t);
const workerNs = () => { const m = threadNs(); return workers.reduce((s, t) => s + (m.get(t) ?? 0), 0); };

const plans: [string, Plan][] = [['block', block.plan], ['step', step]];
const res: Record<string, { gpu: number[]; wall: number[]; cpu: number[]; kernels: Record<string, number[]> }> = {};
for (const [n] of plans) res[n] = { gpu: [], wall: [], cpu: [], kernels: {} };
await profilePlan(step, { repeats: 1, warmup: 1 });
for (let r = 0; r < rounds; r++) {
  for (const [n, plan] of plans) {
    const run = await profilePlan(plan, { repeats: 1, warmup: 0 });
    res[n]!.gpu.push(run.totalMs);
    const fam: Record<string, number> = {};
    for (const x of run.dispatches) fam[x.family] = (fam[x.family] ?? 0) + (x.ms ?? 0);
    for (const [f, ms] of Object.entries(fam)) (res[n]!.kernels[f] ??= []).push(ms);
    const t0 = performance.now();
    const c0 = workerNs();
    await plan.run('wall');
    res[n]!.cpu.push((workerNs() - c0) / 1e6);
    res[n]!.wall.push(performance.now() - t0);
  }
}
const out: Record<string, unknown> = { workers: workers.length, rounds };
for (const [n, r] of Object.entries(res)) {
  out[n] = {
    gpu_ms: +median(r.gpu).toFixed(2), gpu_min_ms: +Math.min(...r.gpu).toFixed(2), wall_ms: +median(r.wall).toFixed(2), cpu_ms: +median(r.cpu).toFixed(2),
    families_gpu_ms: Object.fromEntries(Object.entries(r.kernels).map(([f, v]) => [f, +median(v).toFixed(2)])),
  };
}
console.log(JSON.stringify(out));
block.destroy();
model.destroy();
gpu.destroy();
