// A/B of two GEMM choices in one process, interleaved round by round (ABAB, order swapped every round),
// paired per round: the subgroup kernel's workgroup width the tuner can now choose (src/ops/gemm.ts:
// subgroup-sr32-swg32-k, 32 lanes × 4 columns, against subgroup-sr32-k, whose width N decides: 64 lanes at
// N 1536 and 4608).
//
//   npx tsx bench/swg-ab.ts [--shape block | M×K×N] [--a subgroup-sr32-k] [--b subgroup-sr32-swg32-k] [--rounds 30] [--runs 3]
//
// --shape block (default): the DiT-S block (D 384, 6 heads, 1024 tokens; profile/workloads.ts blockWorkload), timed as the
// peers bench times tessera (plan.run + readTensor of the output), the two sides differing only in ff.0's choice
// (bucket M1024 N2048 K512 SWG64x4: --a on one side, --b on the other). Every other tuned call takes the tuning
// cache's choice for its bucket, the same on both sides (TESSERA_TUNE cached: nothing is timed); to_qkv's bucket,
// when the cache has none under the new key, takes the choice cached under the old one (f32 M1024 N2048 K512,
// which ff.0 shared before session 18). --shape M×K×N: one GEMM (profile/workloads.ts gemmWorkload, as tessera bench
// gemm: no bias or GELU, which cost nothing measurable at ff.0) with strategy --a or --b. Each side is checked first
// against its float64 reference.
// Prints each side's median and min wall ms per run, and the paired ratio b / a (median, geomean, rounds faster).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { create, globals } from 'webgpu';
import { acquireGpu, describeAdapter } from '../src/gpu/device.js';
import { setLlvmpipeThreads } from '../src/gpu/node.js';
import { tuneCachePath } from '../src/gpu/tune-store-node.js';
import { loadTuneCache, setTuneMode, setTuneStore, tuneAdapterKey, type TuneEntry } from '../src/gpu/tune.js';
import { readTensor } from '../src/gpu/tensor.js';
import { gemmBucket, GEMM_CANDIDATES, type GemmCandidate } from '../src/ops/gemm.js';
import { median } from '../src/profile/profiler.js';
import { blockWorkload, gemmWorkload } from '../src/profile/workloads.js';

const { values: a } = parseArgs({
  options: {
    shape: { type: 'string', default: 'block' },
    a: { type: 'string', default: 'subgroup-sr32-k' },
    b: { type: 'string', default: 'subgroup-sr32-swg32-k' },
    rounds: { type: 'string', default: '30' },
    runs: { type: 'string', default: '3' },
  },
  strict: true,
});
const fail = (msg: string): never => {
  console.error(`bench/swg-ab.ts: ${msg}`);
  process.exit(2);
};
const int = (name: string, v: string) => {
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 ? n : fail(`--${name}: a positive integer, got ${v}`);
};
const strategy = (name: string, v: string) => ((GEMM_CANDIDATES as readonly string[]).includes(v) ? (v as GemmCandidate) : fail(`--${name}: a GEMM strategy (${GEMM_CANDIDATES.join(', ')}), got ${v}`));
const rounds = int('rounds', a.rounds!), runs = int('runs', a.runs!);
const sides = { a: strategy('a', a.a!), b: strategy('b', a.b!) };
const shape = a.shape === 'block' ? null : (/^(\d+)[x×](\d+)[x×](\d+)$/.exec(a.shape!)?.slice(1).map(Number) ?? fail(`--shape: block or M×K×N, got ${a.shape}`));

Object.assign(globalThis, globals);
setLlvmpipeThreads();
const dawn = create(['disable-dawn-features=timestamp_quantization']); // kept referenced: Dawn's instance must outlive the device
const gpu = await acquireGpu({ gpu: dawn });

/** One side: what a timed run does, and what frees it. */
interface Side {
  once(): Promise<Float32Array>;
  destroy(): void;
}

/** The user's cached entries of this adapter (tune.json), keyed as the tuner keys them. */
function cachedEntries(): Record<string, TuneEntry> {
  try {
    return (JSON.parse(readFileSync(tuneCachePath(), 'utf8')) as { entries?: Record<string, TuneEntry> }).entries ?? {};
  } catch {
    return {};
  }
}

async function blockSide(ff0: GemmCandidate): Promise<Side> {
  const prefix = `v1|${gpu.runtime}|${tuneAdapterKey(gpu)}|gemm|`;
  const stored = cachedEntries();
  const entry = (choice: string): TuneEntry => ({ choice, ms: { [choice]: 0 }, shapes: 'bench/swg-ab.ts', date: new Date().toISOString() });
  const qkv = prefix + gemmBucket('f32', 1024, 1152, 384);
  const mine = { ...stored, [prefix + gemmBucket('f32', 1024, 1536, 384)]: entry(ff0) };
  if (!mine[qkv] && stored[prefix + 'f32 M1024 N2048 K512']) mine[qkv] = stored[prefix + 'f32 M1024 N2048 K512']!;
  setTuneStore({ where: 'memory (bench/swg-ab.ts)', load: async () => structuredClone(mine), save: async () => {} });
  await loadTuneCache();
  const w = blockWorkload(gpu, { hidden: 384, heads: 6, tokens: 1024, mlpRatio: 4, dtype: 'f32' });
  await w.plan.run('check');
  const check = w.checkOutput(await readTensor(gpu, w.out));
  if (!check.ok) throw new Error(`block with ff.0 ${ff0}: out of tolerance (${check.fails}/${check.elements})`);
  const ff = w.plan.dispatches.find((d) => d.layer?.endsWith('ff.0'));
  console.log(`block, ff.0 ${ff0}: ${ff?.kernel}; ${w.plan.dispatches.filter((d) => d.kernel.startsWith('gemm')).map((d) => `${d.layer} ${d.choice ?? ''}`).join(', ')}`);
  return { once: async () => (await w.plan.run('swg A/B'), readTensor(gpu, w.out)), destroy: () => w.destroy() };
}

async function gemmSide(s: GemmCandidate, [m, k, n]: number[]): Promise<Side> {
  const w = gemmWorkload(gpu, { m: m!, k: k!, n: n!, dtype: 'f32', strategy: s });
  const check = await w.check();
  if (!check.ok) throw new Error(`${w.label} ${s}: out of tolerance (${check.fails}/${check.elements})`);
  console.log(`${w.label} ${s}: ${w.plan.dispatches[0]!.kernel}, checked against float64`);
  return { once: async () => (await w.plan.run('swg A/B'), readTensor(gpu, w.out)), destroy: () => w.destroy() };
}

setTuneMode(gpu, 'cached');
const A = shape ? await gemmSide(sides.a, shape) : await blockSide(sides.a);
const B = shape ? await gemmSide(sides.b, shape) : await blockSide(sides.b);
for (let i = 0; i < 3; i++) await A.once(), await B.once();
const ms = { a: [] as number[], b: [] as number[] };
for (let r = 0; r < rounds; r++) {
  for (const s of r % 2 ? (['b', 'a'] as const) : (['a', 'b'] as const)) {
    const side = s === 'a' ? A : B;
    await side.once(); // the plan's Pace learns this side's duration first
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await side.once();
    ms[s].push((performance.now() - t0) / runs);
  }
}
console.log(`${describeAdapter(gpu)}; ${shape ? `gemm ${shape.join('×')}` : 'DiT-S block (D 384, 1024 tokens)'}; ${rounds} rounds × ${runs} runs; LP_NUM_THREADS ${process.env.LP_NUM_THREADS}`);
for (const s of ['a', 'b'] as const) console.log(`${s} ${sides[s].padEnd(24)} median ${median(ms[s]).toFixed(1)} ms  min ${Math.min(...ms[s]).toFixed(1)}`);
const rs = ms.b.map((t, i) => t / ms.a[i]!);
const geo = Math.exp(rs.reduce((x, r) => x + Math.log(r), 0) / rs.length);
console.log(`b / a: median ${median(rs).toFixed(3)}, geomean ${geo.toFixed(3)}, b faster in ${rs.filter((r) => r < 1).length}/${rs.length} rounds`);
A.destroy();
B.destroy();
gpu.destroy();
process.exit(0);
