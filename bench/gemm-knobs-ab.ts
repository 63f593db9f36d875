// Paired A/B of GEMM kernel knobs at one shape WITH the call's epilogue (bias, GELU, gated residual), in one process,
// interleaved round by round: what the tuner's own rule measures (tune.ts tuneRequest: one profilePlan repeat per
// candidate per round, GPU-timestamp time, a Pace per candidate), but over a fixed number of rounds, every variant
// every round, the order rotated each round. `tessera bench gemm --variants` times the bare GEMM only.
//
//   npx tsx bench/gemm-knobs-ab.ts --shape 1024x384x384 --epilogue bias,residual,gate \
//     --variants 'SR=16,SWG=32;SR=32,SWG=32;SR=16,SWG=32,KC=96' [--rounds 16]
//
// --shape M×K×N (x [M,K], w [N,K]); --epilogue: a comma list of bias, gelu, silu, residual, gate (gate: a DiT block's
// per-batch gate row, `tokens` = M, as the blocks' to_out / ff.2); --variants: ';'-separated tile knobs (GemmArgs.tile)
// or strategy names (GEMM_CANDIDATES). The first variant is the reference: each one is checked against float64 first
// (its first run, from a zero output), then timed. Prints per variant its kernel, median / min GPU ms, and its time
// over the reference's in the same round (median, geomean, rounds faster), and the load average before and after.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { create, globals } from 'webgpu';
import { acquireGpu, describeAdapter } from '../src/gpu/device.js';
import { setLlvmpipeThreads } from '../src/gpu/node.js';
import { Allocator, readTensor } from '../src/gpu/tensor.js';
import { Pace, Plan } from '../src/gpu/plan.js';
import { setTuneMode } from '../src/gpu/tune.js';
import { gemm, GEMM_CANDIDATES, type GemmArgs, type GemmCandidate } from '../src/ops/gemm.js';
import { median, profilePlan } from '../src/profile/profiler.js';
import { gemmRef } from '../src/ref/gemm.js';
import { randn } from '../src/random.js';

const { values: a } = parseArgs({
  options: { shape: { type: 'string' }, epilogue: { type: 'string', default: '' }, variants: { type: 'string' }, rounds: { type: 'string', default: '16' } },
  strict: true,
});
const fail = (msg: string): never => {
  console.error(`bench/gemm-knobs-ab.ts: ${msg}`);
  process.exit(2);
};
const [M, K, N] = /^(\d+)[x×](\d+)[x×](\d+)$/.exec(a.shape ?? '')?.slice(1).map(Number) ?? fail(`--shape: M×K×N such as 1024x384x384, got ${a.shape}`);
const epi = new Set((a.epilogue ?? '').split(',').filter(Boolean));
for (const e of epi) if (!['bias', 'gelu', 'silu', 'residual', 'gate'].includes(e)) fail(`--epilogue: bias, gelu, silu, residual, gate; got ${e}`);
if (epi.has('gate') && !epi.has('residual')) fail('--epilogue: gate needs residual');
const rounds = Number(a.rounds);
if (!Number.isInteger(rounds) || rounds < 1) fail(`--rounds: a positive integer, got ${a.rounds}`);
const variants = (a.variants ?? fail('--variants: required')).split(';').map((v) => v.trim());
const parse = (v: string): Pick<GemmArgs, 'tile' | 'strategy'> => {
  if ((GEMM_CANDIDATES as readonly string[]).includes(v)) return { strategy: v as GemmCandidate };
  const tile: Record<string, number> = {};
  for (const kv of v.split(',')) {
    const [k, val] = kv.split('=');
    if (!k || val === undefined || !Number.isInteger(Number(val))) fail(`--variants: "${v}": tile knobs K=V,… or a strategy`);
    tile[k!] = Number(val);
  }
  return { tile };
};

Object.assign(globalThis, globals);
setLlvmpipeThreads();
const dawn = create(['disable-dawn-features=timestamp_quantization']); // kept referenced: Dawn's instance must outlive the device
const gpu = await acquireGpu({ gpu: dawn });
setTuneMode(gpu, 'off');

const x = randn(M * K, 1), w = randn(N * K, 2, 1 / Math.sqrt(K)), b = randn(N, 3, 0.5), mod = randn(6 * N, 4, 0.3);
const gate = { stride: 6 * N, offset: 2 * N, tokens: M };
const act = epi.has('gelu') ? 'gelu' : epi.has('silu') ? 'silu' : 'none';
const ref = gemmRef(x, w, { M, K, N, ...(epi.has('bias') ? { bias: b } : {}), act, ...(epi.has('residual') ? { residual: new Float32Array(M * N), ...(epi.has('gate') ? { gate: { ...gate, mod } } : {}) } : {}) });

const alloc = new Allocator(gpu);
const sides: { v: string; plan: Plan; pace: Pace; ms: number[]; kernel: string }[] = [];
for (const v of variants) {
  const plan = new Plan(gpu, alloc);
  plan.tuning = false;
  const out = alloc.tensor([M, N], 'f32', 'out');
  gemm(plan, {
    x: alloc.upload(x, [M, K], 'f32', 'x'),
    w: alloc.upload(w, [N, K], 'f32', 'w'),
    out,
    act,
    residual: epi.has('residual'),
    layer: 'ab',
    ...(epi.has('bias') ? { bias: alloc.upload(b, [N], 'f32', 'bias') } : {}),
    ...(epi.has('gate') ? { gate: { ...gate, mod: alloc.upload(mod, [6 * N], 'f32', 'mod') } } : {}),
    ...parse(v),
  });
  await plan.run('check');
  const got = await readTensor(gpu, out);
  let err = 0;
  for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i]! - ref[i]!) / (1 + Math.abs(ref[i]!)));
  if (!(err < 1e-4)) fail(`${v}: max relative error ${err} against float64`);
  sides.push({ v, plan, pace: new Pace(), ms: [] as number[], kernel: plan.dispatches[0]!.kernel });
  console.log(`${v}: ${plan.dispatches[0]!.kernel}, checked (max rel. err ${err.toExponential(1)})`);
}
const load0 = loadavg()[0]!;
const time = async (s: (typeof sides)[number]) => (await profilePlan(s.plan, { repeats: 1, warmup: 0, pace: s.pace })).totalMs;
for (const s of sides) await time(s), await time(s); // the Pace learns each plan
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < sides.length; i++) {
    const s = sides[(i + r) % sides.length]!;
    s.ms.push(await time(s));
  }
}
const load1 = loadavg()[0]!;
console.log(`${describeAdapter(gpu)}; LP_NUM_THREADS ${process.env.LP_NUM_THREADS}; gemm ${M}×${K}×${N} f32 [${[...epi].join(',') || 'bare'}]; ${rounds} rounds; load ${load0.toFixed(1)} → ${load1.toFixed(1)}`);
const refMs = sides[0]!.ms;
for (const s of sides) {
  const rs = s.ms.map((t, i) => t / refMs[i]!);
  const geo = Math.exp(rs.reduce((acc, q) => acc + Math.log(q), 0) / rs.length);
  console.log(`${s.v.padEnd(26)} ${s.kernel.padEnd(54)} median ${median(s.ms).toFixed(2)} ms  min ${Math.min(...s.ms).toFixed(2)}  / ref: median ${median(rs).toFixed(3)} geomean ${geo.toFixed(3)} faster ${rs.filter((q) => q < 1).length}/${rs.length}`);
}
alloc.destroyAll();
gpu.destroy();
process.exit(0);
