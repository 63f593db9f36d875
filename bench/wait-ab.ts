// A/B of how tessera waits for the GPU in Node (src/gpu/device.ts gpuWait) on the DiT-S block, in one
// process: Dawn's busy wait (setGpuWaitThrottle(false)) against gpuWait's sleeping poll, interleaved
// round by round (ABAB, order swapped every round), each side timed over the same call the peers
// bench times for tessera (plan.run + readTensor of the output).
//
//   npx tsx bench/wait-ab.ts [--rounds 30] [--runs 3] [--at-once] [--hidden 384 --heads 6]
//
// --at-once: submit and wait without Pace's sleep first (what a first run, a run under PACE_MIN_MS or any
// unpaced wait does). Prints each side's median and min wall ms per run, process CPU ms per run (user +
// sys: llvmpipe's threads and the waiting main thread), and the paired ratio throttled / busy.
import { parseArgs } from 'node:util';
import { create, globals } from 'webgpu';
import { acquireGpu, describeAdapter, gpuWaitSleeps, setGpuWaitThrottle } from '../src/gpu/device.js';
import { setLlvmpipeThreads } from '../src/gpu/node.js';
import { waitIdle } from '../src/gpu/plan.js';
import { readTensor } from '../src/gpu/tensor.js';
import { median } from '../src/profile/profiler.js';
import { blockWorkload } from '../src/profile/workloads.js';

const { values: a } = parseArgs({
  options: { rounds: { type: 'string', default: '30' }, runs: { type: 'string', default: '3' }, 'at-once': { type: 'boolean', default: false }, hidden: { type: 'string', default: '384' }, heads: { type: 'string', default: '6' } },
  strict: true,
});
const int = (name: string, v: string) => {
  const n = Number(v);
  if (Number.isInteger(n) && n >= 1) return n;
  console.error(`bench/wait-ab.ts: --${name}: a positive integer, got ${v}`);
  process.exit(2);
};
const rounds = int('rounds', a.rounds!), runs = int('runs', a.runs!), hidden = int('hidden', a.hidden!), heads = int('heads', a.heads!);

Object.assign(globalThis, globals);
setLlvmpipeThreads();
const dawn = create(['disable-dawn-features=timestamp_quantization']);
const gpu = await acquireGpu({ gpu: dawn });
const w = blockWorkload(gpu, { hidden, heads, tokens: 1024, mlpRatio: 4, dtype: 'f32' });
const check = w.checkOutput(await (async () => (await w.plan.run('check'), readTensor(gpu, w.out)))());
if (!check.ok) throw new Error(`block output out of tolerance: ${check.fails}/${check.elements}`);

const once = async (throttle: boolean) => {
  setGpuWaitThrottle(throttle);
  if (a['at-once']) {
    const enc = gpu.device.createCommandEncoder();
    w.plan.encode(enc);
    gpu.device.queue.submit([enc.finish()]);
    await waitIdle(gpu, 'wait A/B');
  } else await w.plan.run('wait A/B');
  return readTensor(gpu, w.out);
};
for (let i = 0; i < 3; i++) await once(true), await once(false);
const sides = { busy: false, throttled: true } as const;
const ms: Record<keyof typeof sides, number[]> = { busy: [], throttled: [] };
const cpu: Record<keyof typeof sides, number[]> = { busy: [], throttled: [] };
for (let r = 0; r < rounds; r++) {
  const order = (r % 2 ? ['throttled', 'busy'] : ['busy', 'throttled']) as (keyof typeof sides)[];
  for (const s of order) {
    await once(sides[s]); // the plan's Pace learns this side's duration first
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await once(sides[s]);
    ms[s].push((performance.now() - t0) / runs);
    const c = process.cpuUsage(c0);
    cpu[s].push((c.user + c.system) / 1000 / runs);
  }
}
setGpuWaitThrottle(true);
console.log(`${describeAdapter(gpu)}; ${w.label}; ${a['at-once'] ? 'waits at once (no Pace)' : 'plan.run (paced)'} + readTensor; ${rounds} rounds × ${runs} runs; LP_NUM_THREADS ${process.env.LP_NUM_THREADS}`);
for (const s of ['busy', 'throttled'] as const) console.log(`${s.padEnd(10)} median ${median(ms[s]).toFixed(1)} ms  min ${Math.min(...ms[s]).toFixed(1)}  process CPU ${median(cpu[s]).toFixed(1)} ms/run`);
const rs = ms.throttled.map((t, i) => t / ms.busy[i]!);
const geo = Math.exp(rs.reduce((x, r) => x + Math.log(r), 0) / rs.length);
console.log(`throttled / busy: median ${median(rs).toFixed(3)}, geomean ${geo.toFixed(3)}, faster in ${rs.filter((r) => r < 1).length}/${rs.length} rounds; poll sleeps ${gpuWaitSleeps()}`);
w.destroy();
gpu.destroy();
process.exit(0);
