// Wall-clock GFLOP/s of the attention kernel: npx tsx scripts/bench-attention.ts [B,H,L,Dh[,Lk]] ... [--f16] [--BQ=n] [--BK=n] [--WG=n] [--RPT=n] [--runs=n]
import '../src/gpu/node.js';
import { acquireGpu } from '../src/gpu/device.js';
import { Allocator } from '../src/gpu/tensor.js';
import { Plan } from '../src/gpu/plan.js';
import { attention } from '../src/ops/attention.js';
import { randn } from '../src/random.js';

const args = process.argv.slice(2);
const opt = (n: string) => args.find((a) => a.startsWith(`--${n}=`))?.split('=')[1];
const dtype = args.includes('--f16') ? 'f16' : 'f32';
const runs = Number(opt('runs') ?? 3);
const tile: Record<string, number> = {};
for (const k of ['BQ', 'BK', 'WG', 'RPT', 'SG']) if (opt(k)) tile[k] = Number(opt(k));
const cases = args.filter((a) => !a.startsWith('--')).map((s) => s.split(',').map(Number));
if (!cases.length) cases.push([1, 6, 1024, 64], [1, 16, 4096, 72]);

const gpu = await acquireGpu();
for (const [B, H, L, D, Lk0] of cases as number[][]) {
  const Lk = Lk0 ?? L;
  const alloc = new Allocator(gpu);
  const plan = new Plan(gpu, alloc);
  const W = H! * D!;
  const q = alloc.upload(randn(B! * L! * W, 1), [B!, L!, W], dtype, 'q');
  const k = alloc.upload(randn(B! * Lk * W, 2), [B!, Lk, W], dtype, 'k');
  const v = alloc.upload(randn(B! * Lk * W, 3), [B!, Lk, W], dtype, 'v');
  const out = alloc.tensor([B!, L!, W], dtype, 'o');
  attention(plan, { q, k, v, out, heads: H!, headDim: D!, tile });
  await plan.run('warmup');
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await plan.run('bench');
    times.push(performance.now() - t0);
  }
  const best = Math.min(...times);
  const flops = plan.totalFlops;
  console.log(`${plan.dispatches[0]!.kernel} B=${B} H=${H} Lq=${L} Lk=${Lk} Dh=${D} ${dtype}: best ${best.toFixed(1)} ms, ${(flops / best / 1e6).toFixed(2)} GFLOP/s (runs ${times.map((t) => t.toFixed(0)).join(' ')})`);
  alloc.destroyAll();
}
gpu.destroy();
