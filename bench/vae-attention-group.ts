// The VAE mid-block attention over N images, one dispatch per image and pass (group 1, as before session 23)
// against `group` images per dispatch (attentionImageGroup's choice, or --group), in one process, the two plans
// interleaved (A B B A …) on the same inputs, outputs checked equal:
//
//   npx tsx bench/vae-attention-group.ts [--images 12] [--pixels 16] [--channels 384] [--dtype f32] [--rounds 20] [--group G]
//
// Prints each side's dispatches and the median CPU seconds (process.cpuUsage: Dawn's and llvmpipe's threads run in
// this process) and wall milliseconds of one run of its plan (submit to the results' readback), with min–max.
import '../src/gpu/node.js'; // the Node WebGPU provider (Dawn)
import { parseArgs } from 'node:util';
import { acquireGpu } from '../src/gpu/device.js';
import { Plan } from '../src/gpu/plan.js';
import { Allocator, readTensor, type DType } from '../src/gpu/tensor.js';
import { attentionImageGroup, vaeAttention } from '../src/ops/vae-attention.js';
import { randn } from '../src/random.js';

const { values: a } = parseArgs({ options: { images: { type: 'string', default: '12' }, pixels: { type: 'string', default: '16' }, channels: { type: 'string', default: '384' }, dtype: { type: 'string', default: 'f32' }, rounds: { type: 'string', default: '20' }, group: { type: 'string' } } });
const [N, L, C, rounds] = [a.images, a.pixels, a.channels, a.rounds].map(Number) as [number, number, number, number];
const dtype = a.dtype as DType;
const gpu = await acquireGpu();
const alloc = new Allocator(gpu);
const maxBinding = gpu.limits.maxStorageBufferBindingSize;
const chosen = attentionImageGroup(L, N, maxBinding);
const G = a.group ? Number(a.group) : chosen.group;
const up = (seed: number) => alloc.upload(randn(N * L * C, seed), [N * L, C], dtype, `in${seed}`);
const [q, k, v] = [1, 2, 3].map(up) as [ReturnType<typeof up>, ReturnType<typeof up>, ReturnType<typeof up>];

/** A plan of the attention with `group` images per dispatch, its own output and scratch. */
function side(group: number) {
  const plan = new Plan(gpu, alloc);
  const out = alloc.tensor([N * L, C], dtype, `out${group}`);
  const R = Math.min(chosen.blockRows, L);
  const ml = alloc.tensor([group * L, 2], 'f32', `ml${group}`);
  const probs = alloc.tensor([group * R, L], 'f32', `probs${group}`);
  vaeAttention(plan, { q, k, v, out, ml, probs, blockRows: chosen.blockRows, images: N, group });
  return { name: `group ${group}`, plan, out, cpu: [] as number[], wall: [] as number[] };
}
const sides = [side(1), side(G)];
const res = await Promise.all(sides.map(async (s) => { await s.plan.run('warm-up'); return readTensor(gpu, s.out); }));
const diff = res[0]!.reduce((m, x, i) => Math.max(m, Math.abs(x - res[1]![i]!)), 0);
for (let r = 0; r < rounds; r++) {
  for (const s of r % 2 ? [...sides].reverse() : sides) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await s.plan.run('bench');
    await readTensor(gpu, s.out);
    s.wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    s.cpu.push((c.user + c.system) / 1e6);
  }
}
const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)]!;
console.log(`vae attention, ${N} images of ${L} pixels × ${C} channels ${dtype}, ${rounds} interleaved rounds; outputs differ by ${diff.toExponential(1)} at most`);
for (const s of sides) {
  console.log(`  ${s.name}: ${s.plan.dispatches.length} dispatches, CPU ${med(s.cpu).toFixed(4)} s (${Math.min(...s.cpu).toFixed(4)}–${Math.max(...s.cpu).toFixed(4)}), wall ${med(s.wall).toFixed(2)} ms (${Math.min(...s.wall).toFixed(2)}–${Math.max(...s.wall).toFixed(2)})`);
}
console.log(`  group ${G} / group 1: CPU ×${(med(sides[1]!.cpu) / med(sides[0]!.cpu)).toFixed(2)}, wall ×${(med(sides[1]!.wall) / med(sides[0]!.wall)).toFixed(2)}`);
alloc.destroyAll();
process.exit(0);
