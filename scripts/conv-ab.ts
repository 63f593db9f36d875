// Same-process A/B of conv kernel knobs on one VAE-sized layer, by process CPU time (lavapipe's
// worker threads count there, so a loaded machine distorts it less than wall time).
// usage: npx tsx scripts/conv-ab.ts [H W CIN COUT]
import '../src/gpu/node.js';
import { acquireGpu } from '../src/gpu/device.js';
import { Allocator } from '../src/gpu/tensor.js';
import { Plan } from '../src/gpu/plan.js';
import { conv } from '../src/ops/conv.js';
import { randn } from '../src/random.js';

const [H, W, CIN, COUT] = (process.argv.slice(2).length ? process.argv.slice(2) : ['32', '32', '128', '128']).map(Number) as [number, number, number, number];
const gpu = await acquireGpu();
const alloc = new Allocator(gpu);
const x = alloc.upload(randn((H + 2) * W * CIN, 1), [H + 2, W, CIN], 'f32', 'x');
const w = alloc.upload(randn(9 * CIN * Math.ceil(COUT / 4) * 4, 2, 0.03), [9, CIN, Math.ceil(COUT / 4) * 4], 'f32', 'w');
const b = alloc.upload(randn(COUT, 3), [COUT], 'f32', 'b');
const out = alloc.tensor([H + 2, W, COUT], 'f32', 'out');
const variants: Record<string, { PX?: number }> = { 'PX=4': { PX: 4 }, 'PX=8': { PX: 8 } };
const plans = Object.entries(variants).map(([name, tile]) => {
  const plan = new Plan(gpu, alloc);
  conv(plan, { x: [x], w, bias: b, out, rows: H, width: W, cin: CIN, cout: COUT, ks: 3, tile });
  return { name, plan, cpu: [] as number[] };
});
for (const p of plans) await p.plan.run('warmup');
for (let r = 0; r < 5; r++) {
  for (const p of plans) {
    const c0 = process.cpuUsage();
    await p.plan.run('ab');
    const c = process.cpuUsage(c0);
    p.cpu.push((c.user + c.system) / 1000);
  }
}
const flops = 2 * 9 * CIN * COUT * H * W;
for (const p of plans) {
  const med = [...p.cpu].sort((a, b) => a - b)[2]!;
  console.log(`${p.name}: median ${med.toFixed(1)} ms CPU, ${(flops / med / 1e6).toFixed(2)} GFLOP per CPU-second`);
}
alloc.destroyAll();
gpu.destroy();
