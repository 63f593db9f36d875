// A/B timing of attention variants in one process: each variant is checked against the float64
// reference (sampled rows), then the variants are timed round-robin (one GPU-timestamped run each
// per round) so machine-load drift hits all of them alike. Ratios are against the first tile. Usage:
//   XDG_RUNTIME_DIR=/tmp npx tsx scripts/attention-ab.ts H Lq Dh [Lk] [f32|f16] [rounds] '[{tile},{tile},...]'
import '../src/gpu/node.js';
import { acquireGpu } from '../src/gpu/device.js';
import { median, profilePlan } from '../src/profile/profiler.js';
import { assertCheck, attentionWorkload } from '../src/profile/workloads.js';
import type { DType } from '../src/gpu/tensor.js';

const [H, Lq, D, Lk0] = process.argv.slice(2, 6).map(Number) as [number, number, number, number];
const Lk = Lk0 || Lq;
const dtype = (process.argv[6] ?? 'f32') as DType;
const rounds = Number(process.argv[7] ?? 5);
const tiles: Record<string, number>[] = JSON.parse(process.argv[8] ?? '[{}]');
const gpu = await acquireGpu();
const ws = tiles.map((tile) => attentionWorkload(gpu, { batch: 1, heads: H, tokens: Lq, kvTokens: Lk, headDim: D, dtype, tile }));
for (const w of ws) assertCheck(w.label, await w.check());
const samples: number[][] = ws.map(() => []);
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < ws.length; i++) {
    const run = await profilePlan(ws[i]!.plan, { repeats: 1, warmup: 0 });
    samples[i]!.push(run.totalMs);
  }
}
const flops = 4 * H * Lq * Lk * D;
const base = median(samples[0]!);
ws.forEach((w, i) => {
  const ms = median(samples[i]!);
  console.log(
    `${JSON.stringify(tiles[i])} ${w.plan.dispatches[0]!.kernel}: median ${ms.toFixed(2)} ms (min ${Math.min(...samples[i]!).toFixed(2)}) ` +
      `${(flops / ms / 1e6).toFixed(2)} GFLOP/s  speed-up ×${(base / ms).toFixed(2)} (by min ×${(Math.min(...samples[0]!) / Math.min(...samples[i]!)).toFixed(2)})`,
  );
});
for (const w of ws) w.destroy();
gpu.destroy();
