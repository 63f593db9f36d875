// Same-process A/B of kernel sources: the listed kernels compiled from a git revision (A) and
// from the working tree (B), everything else identical. Workloads: GEMMs with each fused
// epilogue at the demo's and DiT-S sizes, one DiT block (D=384), one wan-tiny denoising step
// (the demo's plan, CFG batch 2). Every GEMM/block plan is checked against the float64
// reference for both sources before timing; the two wan-tiny steps are compared with each other.
// Timing is round-robin (A and B alternate per workload and round), GPU timestamps summed over
// dispatches, plus the wall clock of a plain plan.run(). Usage:
//   XDG_RUNTIME_DIR=/tmp npx tsx scripts/fused-ab.ts [--ref HEAD] [--kernels gemm,norm] [--rounds 5] [--only gemm,block,step]
import '../src/gpu/node.js';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { acquireGpu, type Gpu } from '../src/gpu/device.js';
import { invalidateKernel } from '../src/gpu/kernel.js';
import { Plan } from '../src/gpu/plan.js';
import { setKernelSource } from '../src/gpu/shader.js';
import { Allocator, readTensor, type Tensor } from '../src/gpu/tensor.js';
import { gemm } from '../src/ops/gemm.js';
import { norm } from '../src/ops/norm.js';
import { normRef } from '../src/ref/norm.js';
import { getPreset, loadRandomModel } from '../src/model/presets.js';
import { median, profilePlan } from '../src/profile/profiler.js';
import { assertCheck, blockWorkload, BENCH_TOL, sampleRows, type Check } from '../src/profile/workloads.js';
import { compareRows } from '../src/profile/check.js';
import { gemmRef } from '../src/ref/gemm.js';
import { randn } from '../src/random.js';
import { kernelSources } from '../src/kernels.gen.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const ref = arg('ref', 'HEAD');
const kernels = arg('kernels', 'gemm,norm,rope,patchify,adaln,elementwise').split(',');
const rounds = Number(arg('rounds', '5'));
const only = arg('only', 'gemm,block,step').split(',');
const gemmFilter = arg('gemm', '');
// norm cases: the op's choice, or both kernels (--norm-rpt both)
const normRpt: (boolean | undefined)[] = arg('norm-rpt', 'op') === 'both' ? [true, false] : [undefined];

const srcA: Record<string, string> = {};
for (const k of kernels) srcA[k] = execFileSync('git', ['show', `${ref}:kernels/${k}.wgsl`], { encoding: 'utf8' });
const srcB: Record<string, string> = {};
for (const k of kernels) srcB[k] = kernelSources[k]!;
const changed = kernels.filter((k) => srcA[k] !== srcB[k]);
console.log(`A = ${ref}, B = working tree; kernels differing: ${changed.join(', ') || 'none'}`);

function useSources(gpu: Gpu, s: Record<string, string>): void {
  for (const [k, v] of Object.entries(s)) {
    setKernelSource(k, v);
    invalidateKernel(gpu, k);
  }
}

interface Case {
  label: string;
  plan: Plan;
  check: () => Promise<Check | string>;
  destroy: () => void;
  flops: number;
}

function gemmCase(gpu: Gpu, M: number, K: number, N: number, epi: 'bare' | 'bias' | 'gelu' | 'gate' | 'res'): Case {
  const alloc = new Allocator(gpu);
  const plan = new Plan(gpu, alloc);
  const T = M / 2; // two batch items, like CFG
  const x = randn(M * K, 1, 1);
  const w = randn(N * K, 2, 1 / Math.sqrt(K));
  const b = randn(N, 3, 0.5);
  const init = randn(M * N, 4, 1);
  const stride = 6 * N;
  const mod = randn(2 * stride, 5, 1);
  const out: Tensor = epi === 'gate' || epi === 'res' ? alloc.upload(init, [2, T, N], 'f32', 'out') : alloc.tensor([2, T, N], 'f32', 'out');
  const gate = { stride, offset: 2 * N, tokens: T };
  gemm(plan, {
    x: alloc.upload(x, [2, T, K], 'f32', 'x'),
    w: alloc.upload(w, [N, K], 'f32', 'w'),
    bias: epi === 'bare' ? undefined : alloc.upload(b, [N], 'f32', 'b'),
    out,
    act: epi === 'gelu' ? 'gelu' : 'none',
    residual: epi === 'gate' || epi === 'res',
    gate: epi === 'gate' ? { mod: alloc.upload(mod, [2, stride], 'f32', 'mod'), ...gate } : undefined,
  });
  return {
    label: `gemm ${M}×${K}×${N} ${epi}`,
    plan,
    flops: 2 * M * N * K,
    destroy: () => alloc.destroyAll(),
    async check() {
      // residual modes accumulate into `out`: restore it first so one run is checked
      if (epi === 'gate' || epi === 'res') gpu.device.queue.writeBuffer(out.buffer, 0, init as Float32Array<ArrayBuffer>);
      await plan.run('check');
      const got = await readTensor(gpu, out);
      if (epi === 'gate' || epi === 'res') gpu.device.queue.writeBuffer(out.buffer, 0, init as Float32Array<ArrayBuffer>);
      const rows = sampleRows(M, N * K, 3e7, 12);
      const xs = new Float32Array(rows.length * K);
      const rs = new Float32Array(rows.length * N);
      rows.forEach((r, i) => {
        xs.set(x.subarray(r * K, (r + 1) * K), i * K);
        rs.set(init.subarray(r * N, (r + 1) * N), i * N);
      });
      // the gate's batch index comes from the real row, so build the reference per row
      const refRows = new Float64Array(rows.length * N);
      rows.forEach((r, i) => {
        const one = gemmRef(xs.subarray(i * K, (i + 1) * K), w, {
          M: 1, K, N,
          bias: epi === 'bare' ? undefined : b,
          act: epi === 'gelu' ? 'gelu' : 'none',
          residual: epi === 'gate' || epi === 'res' ? rs.subarray(i * N, (i + 1) * N) : undefined,
          gate: epi === 'gate' ? { mod, stride, offset: 2 * N + Math.floor(r / T) * stride, tokens: 1 } : undefined,
        });
        refRows.set(one, i * N);
      });
      return compareRows(got, refRows, rows, N, M, BENCH_TOL.gemm.f32);
    },
  };
}

/** LayerNorm (+ modulation, two batch items) or RMSNorm + affine over [rows, cols]; rpt forces ROW_PER_THREAD on/off. */
function normCase(gpu: Gpu, rows: number, cols: number, kind: 'mod' | 'rms', rpt?: boolean): Case {
  const alloc = new Allocator(gpu);
  const plan = new Plan(gpu, alloc);
  const x = randn(rows * cols, 1, 1).map((v, i) => v + (i % 7) * 0.1);
  const mod = randn(2 * 6 * cols, 2, 0.3);
  const wt = randn(cols, 3, 1);
  const out = alloc.tensor([rows, cols], 'f32', 'y');
  const m = { stride: 6 * cols, shiftOffset: 0, scaleOffset: cols };
  norm(plan, {
    x: alloc.upload(x, [rows, cols], 'f32', 'x'), out, eps: 1e-6,
    ...(kind === 'mod' ? { modulate: { mod: alloc.upload(mod, [2, 6 * cols], 'f32', 'mod'), ...m }, tokens: rows / 2 } : { rms: true, weight: alloc.upload(wt, [cols], 'f32', 'w') }),
    ...(rpt === undefined ? {} : { rowPerThread: rpt }),
  });
  return {
    label: `norm ${rows}×${cols} ${kind}${rpt === undefined ? '' : rpt ? ' rpt' : ' wg'}`,
    plan,
    flops: 0,
    destroy: () => alloc.destroyAll(),
    async check() {
      await plan.run('check');
      const got = await readTensor(gpu, out);
      const ref = normRef(x, { rows, cols, eps: 1e-6, ...(kind === 'mod' ? { mod: { data: mod, ...m, tokens: rows / 2 } } : { rms: true, weight: wt }) });
      return compareRows(got, ref, Array.from({ length: rows }, (_, i) => i), cols, rows, BENCH_TOL.layernorm.f32);
    },
  };
}

const gpu = await acquireGpu();
const GEMMS: [number, number, number][] = [
  [3072, 96, 96], [3072, 96, 256], [3072, 256, 96], // wan-tiny (demo), CFG batch 2
  [1024, 384, 384], [1024, 384, 1536], [1024, 1536, 384], // DiT-S block
];
const EPIS = ['bare', 'bias', 'gelu', 'res', 'gate'] as const;

async function build(s: Record<string, string>, tag: string): Promise<Case[]> {
  useSources(gpu, s);
  const cases: Case[] = [];
  if (only.includes('gemm')) {
    for (const [M, K, N] of GEMMS) for (const e of EPIS) {
      const c = gemmCase(gpu, M, K, N, e);
      if (gemmFilter && !gemmFilter.split('|').some((f) => c.label.includes(f))) { c.destroy(); continue; }
      cases.push(c);
    }
  }
  if (only.includes('norm')) {
    const shapes = arg('norm-shapes', '3072x96,1024x384,1024x1152,4096x1152').split(',').map((t) => t.split('x').map(Number) as [number, number]);
    for (const [r, c] of shapes) {
      for (const kind of ['mod', 'rms'] as const) {
        for (const rpt of normRpt) cases.push(normCase(gpu, r, c, kind, rpt));
      }
    }
  }
  if (only.includes('block')) {
    const w = blockWorkload(gpu, { hidden: 384, heads: 6, tokens: 1024, mlpRatio: 4, dtype: 'f32' });
    cases.push({ label: 'block D=384 H=6 T=1024', plan: w.plan, check: () => w.check(), destroy: () => w.destroy(), flops: 0 });
  }
  if (only.includes('step')) {
    const preset = getPreset('wan-tiny');
    const model = await loadRandomModel(preset.config, { gpu, dtype: 'f32', seed: 0, name: 'wan-tiny' });
    const c = model.config as { inChannels: number; textDim: number };
    const { frames, height, width } = preset.latent;
    const L = preset.textLen ?? 8;
    const shape = [2, c.inChannels, frames, height, width];
    const n = shape.reduce((a, b) => a * b, 1);
    const plan = model.planFor({
      hidden_states: { data: randn(n, 7, 1), shape },
      timestep: [500, 500],
      encoder_hidden_states: { data: randn(2 * L * c.textDim, 8, 1), shape: [2, L, c.textDim] },
    });
    cases.push({
      label: 'wan-tiny step (CFG 2)',
      plan,
      flops: 0,
      destroy: () => model.destroy(),
      async check() {
        await plan.run('check');
        const out = plan.dispatches[plan.dispatches.length - 1]!.output;
        const got = out ? await readTensor(gpu, out) : new Float32Array();
        stepOut[tag] = got;
        return `step output ${got.length} values`;
      },
    });
  }
  for (const c of cases) {
    const r = await c.check();
    if (typeof r === 'string') console.log(`${tag} ${c.label}: ${r}`);
    else assertCheck(`${tag} ${c.label}`, r);
  }
  return cases;
}

const stepOut: Record<string, Float32Array> = {};
const A = await build(srcA, 'A');
const B = await build(srcB, 'B');
if (stepOut.A && stepOut.B) {
  let d = 0;
  let mx = 0;
  for (let i = 0; i < stepOut.A.length; i++) {
    d = Math.max(d, Math.abs(stepOut.A[i]! - stepOut.B[i]!));
    mx = Math.max(mx, Math.abs(stepOut.A[i]!));
  }
  console.log(`wan-tiny step: max |A − B| = ${d.toExponential(2)} (max |A| ${mx.toFixed(3)})`);
}

const gpuMs = A.map(() => [[], []] as number[][]);
const wallMs = A.map(() => [[], []] as number[][]);
// CPU time of lavapipe's compute worker threads (schedstat, ns) around a plain run: on a CPU
// adapter it is much less disturbed by other jobs on the machine than timestamps or wall clock
// (time waiting for a core is not counted). Workers = the threads busiest during a calibration run.
const cpuMs = A.map(() => [[], []] as number[][]);
const threadNs = () => new Map(readdirSync('/proc/self/task').map((t) => {
  try { return [t, Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0])] as const; } catch { return [t, 0] as const; }
}));
const workers = await (async () => {
  const a = threadNs();
  for (let i = 0; i < 3; i++) await B[0]!.plan.run('calibrate');
  const b = threadNs();
  const d = [...b].filter(([t]) => t !== String(process.pid)).map(([t, v]) => [t, v - (a.get(t) ?? 0)] as const);
  const max = Math.max(...d.map(([, v]) => v));
  return d.filter(([, v]) => v >= 0.25 * max).map(([t]) => t);
})();
console.log(`lavapipe worker threads: ${workers.length}`);
const workerNs = () => { const m = threadNs(); return workers.reduce((s, t) => s + (m.get(t) ?? 0), 0); };
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < A.length; i++) {
    for (const [s, cs] of (r % 2 ? [[1, B], [0, A]] : [[0, A], [1, B]]) as [number, Case[]][]) {
      const run = await profilePlan(cs[i]!.plan, { repeats: 1, warmup: r === 0 ? 1 : 0 });
      gpuMs[i]![s]!.push(run.totalMs);
      const t0 = performance.now();
      const c0 = workerNs();
      await cs[i]!.plan.run('wall');
      const c1 = workerNs();
      wallMs[i]![s]!.push(performance.now() - t0);
      cpuMs[i]![s]!.push((c1 - c0) / 1e6);
    }
  }
}
console.log(`\n${rounds} rounds, medians; ratio = A / B (> 1: B faster)`);
console.log('case'.padEnd(28), 'A gpu ms', ' B gpu ms', ' ratio', '  A min', '  B min', ' ratio', '  A wall', '  B wall', ' ratio', ' B GFLOP/s');
A.forEach((c, i) => {
  const [ga, gb] = [median(gpuMs[i]![0]!), median(gpuMs[i]![1]!)];
  const [wa, wb] = [median(wallMs[i]![0]!), median(wallMs[i]![1]!)];
  const [ma, mb] = [Math.min(...gpuMs[i]![0]!), Math.min(...gpuMs[i]![1]!)];
  console.log(
    c.label.padEnd(28), ga.toFixed(2).padStart(8), gb.toFixed(2).padStart(9), (ga / gb).toFixed(2).padStart(6),
    ma.toFixed(2).padStart(7), mb.toFixed(2).padStart(7), (ma / mb).toFixed(2).padStart(6),
    wa.toFixed(1).padStart(8), wb.toFixed(1).padStart(8), (wa / wb).toFixed(2).padStart(6),
    median(cpuMs[i]![0]!).toFixed(1).padStart(8), median(cpuMs[i]![1]!).toFixed(1).padStart(8), (median(cpuMs[i]![0]!) / median(cpuMs[i]![1]!)).toFixed(2).padStart(6),
    c.flops ? (c.flops / gb / 1e6).toFixed(1).padStart(9) : '',
  );
});
for (const c of [...A, ...B]) c.destroy();
gpu.destroy();
