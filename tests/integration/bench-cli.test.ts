// The `tessera bench … --json` contract on tiny sizes (one JSON object on the last stdout line),
// argument errors, and the refusal to time a wrong kernel.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tesseraCli, tesseraInProcess } from '../helpers/cli.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { invalidateKernel } from '../../src/gpu/kernel.js';
import { setKernelSource } from '../../src/gpu/shader.js';
import { assertCheck, layernormWorkload, WrongResultError } from '../../src/profile/workloads.js';

const root = join(import.meta.dirname, '..', '..');
const tmp = join(root, 'tests', '.tmp', 'profile-cli');

const tessera = (...args: string[]) => tesseraCli(args);

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

const TIMED = ['median_ms', 'min_ms', 'max_ms', 'gflops', 'gbps'];

function expectTimed(j: Record<string, unknown>, ceiling: boolean) {
  for (const f of TIMED) {
    expect(j[f], f).toBeTypeOf('number');
    expect(j[f] as number, f).toBeGreaterThanOrEqual(0);
  }
  expect(j.min_ms as number).toBeLessThanOrEqual(j.median_ms as number);
  expect(j.median_ms as number).toBeLessThanOrEqual(j.max_ms as number);
  expect('ceiling_share' in j).toBe(true);
  if (ceiling) {
    expect(j.ceiling_share).toBeTypeOf('number');
    // the shares are of the ceiling the result records (not of one reported elsewhere)
    const used = j.ceiling_used as { fma_gflops: number; copy_gbps: number };
    expect(used.fma_gflops).toBeGreaterThan(0);
    expect(j.compute_share as number).toBeCloseTo((j.gflops as number) / used.fma_gflops, 9);
    expect(j.bandwidth_share as number).toBeCloseTo((j.gbps as number) / used.copy_gbps, 9);
  } else {
    expect(j.ceiling_share).toBeNull();
    expect(j.ceiling_used).toBeNull();
  }
  expect(j.timing).toMatch(/^(gpu-timestamps|wall-clock)$/);
  expect((j.check as { rows: number }).rows).toBeGreaterThan(0);
}

describe.skipIf(!hasGpu)('tessera bench --json', () => {
  it('gemm (with the ceiling, Benchmark.js wall clock and a trace file)', async () => {
    mkdirSync(tmp, { recursive: true });
    const trace = join(tmp, 'gemm-trace.json');
    rmSync(trace, { force: true });
    const r = await tessera('bench', 'gemm', '--m', '8', '--k', '8', '--n', '8', '--json', '--repeats', '2', '--warmup', '1', '--trace', trace);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expectTimed(j, true);
    expect(j.bench).toBe('gemm');
    expect(j.args).toEqual({ m: 8, k: 8, n: 8 });
    expect(j.flops).toBe(2 * 8 * 8 * 8);
    expect((j.wall as { source: string; mean_ms: number }).source).toBe('benchmark.js');
    expect((j.wall as { mean_ms: number }).mean_ms).toBeGreaterThan(0);
    expect(existsSync(trace)).toBe(true);
    const t = JSON.parse(readFileSync(trace, 'utf8'));
    expect(t.traceEvents.some((e: { ph: string; name: string }) => e.ph === 'X' && e.name.startsWith('gemm'))).toBe(true);
  });

  it('attention', async () => {
    const r = await tessera('bench', 'attention', '--heads', '2', '--tokens', '5', '--kv-tokens', '7', '--head-dim', '8', '--json', '--repeats', '2', '--warmup', '1', '--no-ceiling', '--no-wall');
    // A wrong kernel is refused (exit 1, clear message) — then there is no JSON to check.
    if (r.code === 1) expect(r.stderr).toMatch(/WrongResultError/);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expectTimed(j, false);
    expect(j.args).toMatchObject({ heads: 2, tokens: 5, kv_tokens: 7, head_dim: 8 });
    expect(j.flops).toBe(4 * 2 * 5 * 7 * 8);
  });

  it('layernorm (reports gbps)', async () => {
    const r = await tessera('bench', 'layernorm', '--rows', '3', '--cols', '33', '--json', '--repeats', '2', '--warmup', '0', '--no-ceiling', '--no-wall');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expectTimed(j, false);
    expect(j.gbps as number).toBeGreaterThan(0);
  });

  it.skipIf(!gpu?.f16)('f16 gemm', async () => {
    const r = await tessera('bench', 'gemm', '--m', '5', '--k', '12', '--n', '3', '--dtype', 'f16', '--json', '--repeats', '2', '--no-ceiling', '--no-wall');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.dtype).toBe('f16');
    expectTimed(j, false);
  });

  it('ceiling', async () => {
    const r = await tessera('bench', 'ceiling', '--json', '--repeats', '2', '--warmup', '0');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.fma_gflops as number).toBeGreaterThan(0);
    expect(j.copy_gbps as number).toBeGreaterThan(0);
    expect(j.adapter).toBeTypeOf('string');
    if (gpu!.f16) expect(j.fma_f16_gflops as number).toBeGreaterThan(0);
    else expect('fma_f16_gflops' in j).toBe(false);
    // user22 #7: each roof is its best repeat, with the spread of its repeats and whether it is wide (busy)
    expect(j.roof).toBe('best repeat');
    expect(j.busy).toBeTypeOf('boolean');
    const spread = j.spread as Record<string, { min: number; median: number; max: number; repeats: number }>;
    expect(Object.keys(spread).sort()).toEqual(gpu!.f16 ? ['copy', 'fma', 'fma_f16'] : ['copy', 'fma']);
    for (const [roof, key] of [['fma', 'fma_gflops'], ['fma_f16', 'fma_f16_gflops'], ['copy', 'copy_gbps']] as const) {
      const r = spread[roof];
      if (!r) continue;
      expect(r.min, roof).toBeGreaterThan(0);
      expect(r.min, roof).toBeLessThanOrEqual(r.median);
      expect(r.median, roof).toBeLessThanOrEqual(r.max);
      expect(r.max / (j[key] as number), roof).toBeCloseTo(1, 9);
      expect(r.repeats, roof).toBeGreaterThanOrEqual(2);
    }
  });

  it('ceiling, text: each roof with min, median and max of its repeats', async () => {
    const r = await tessera('bench', 'ceiling', '--repeats', '2', '--warmup', '0');
    expect(r.code, r.stderr).toBe(0);
    const of = String.raw`\(best of \d+ repeats: min [\d.]+, median [\d.]+, max [\d.]+\)`;
    expect(r.stdout).toMatch(new RegExp(`^fma f32 +[\\d.]+ GFLOP/s ${of}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^copy +[\\d.]+ GB/s ${of} \\(read \\+ write; best copy: VPT=`, 'm'));
    // the busy lines, when there are any (a wide spread; a roof far from the last run's on this adapter), come last
    const lines = r.stdout.trimEnd().split('\n');
    const after = lines.slice(lines.findIndex((l) => l.startsWith('timing')) + 1);
    for (const l of after) expect(/^spread: .* the device is busy/.test(l) || /^between runs: .* the device's load changed between the runs/.test(l), l).toBe(true);
    expect(after.length).toBeLessThanOrEqual(2);
  });
});

describe('tessera bench argument errors (exit 2, clear message)', () => {
  const cases: [string[], RegExp][] = [
    [['bench', 'gemm', '--m', '8', '--k', '8'], /missing --n/],
    [['bench', 'gemm', '--m', 'x', '--k', '8', '--n', '8'], /--m must be an integer, got "x"/],
    [['bench', 'gemm', '--m', '0', '--k', '8', '--n', '8'], /--m must be between 1 and/],
    [['bench', 'gemm', '--m', '8', '--k', '8', '--n', '8', '--rows', '3'], /--rows does not apply/],
    [['bench', 'gemm', '--m', '8', '--k', '8', '--n', '8', '--dtype', 'bf16'], /--dtype must be one of f32, f16/],
    [['bench', 'layernorm', '--rows', '3', '--cols', '8', '--repeats', '0'], /--repeats must be between 1/],
    [['bench', 'nope'], /not one of ceiling, gemm, attention, layernorm, conv, block, suite/],
    [['bench'], /missing benchmark/],
    // a flag before the benchmark: none chosen yet, so the command's name and every benchmark's flags
    [['bench', '--zzz', 'gemm'], /^tessera: error: UsageError: tessera bench: unknown flag --zzz; valid flags: --help, --debug, --no-tune, --m, .*--preset, .*--vae-preset, /],
  ];
  // --model/--vae paths: one line naming the flag, as forward/generate (bench has no --pipeline to suggest)
  const lines: [string[], string][] = [
    [['bench', 'plan', '--model', '/nonexistent'], 'tessera: error: UsageError: --model /nonexistent: no such folder'],
    [['bench', 'plan', '--model', 'models/tessera-shapes'], 'tessera: error: UsageError: --model models/tessera-shapes: a pipeline folder (it has model_index.json); give --model models/tessera-shapes/transformer'],
    // a DiT has no frames: --frames would be ignored, so it is refused as tune and bench model refuse it
    [['bench', 'plan', '--preset', 'dit-tiny', '--frames', '3'], 'tessera: error: UsageError: tessera bench plan: --frames applies to video models; dit-tiny is a DiT (image latents, no frames): leave out --frames'],
    [['bench', 'plan', '--preset', 'wan-1.3b', '--frames', '21', '--height', '61', '--width', '104'], 'tessera: error: UsageError: tessera bench plan: latent 21×61×104 must be divisible by the patch size 1×2×2 of wan-1.3b: --height 61 is not a multiple of 2'],
    [['bench', 'vae', '--vae', '/nonexistent', '--height', '4', '--width', '4'], 'tessera: error: UsageError: --vae /nonexistent: no such folder'],
    [['bench', 'vae', '--vae', 'models/tessera-shapes', '--height', '4', '--width', '4'], 'tessera: error: UsageError: --vae models/tessera-shapes: a pipeline folder (it has model_index.json); give --vae models/tessera-shapes/vae'],
    // named by the benchmark, with its flags as its --help lists them (not every benchmark's: --preset, --batch, --vae …)
    [['bench', 'gemm', '--zzz'], 'tessera: error: UsageError: tessera bench gemm: unknown flag --zzz; valid flags: --help, --debug, --no-tune, --m, --k, --n, --tile, --variants, --json, --dtype, --repeats, --warmup, --trace, --no-wall, --no-ceiling, --quiet'],
    [['bench', 'plan', '--zzz'], 'tessera: error: UsageError: tessera bench plan: unknown flag --zzz; valid flags: --help, --debug, --no-tune, --preset, --model, --frames, --height, --width, --text-len, --batch, --max-binding, --json, --quiet'],
    [['bench', 'plan', '--preset', 'wan-tiny', '--batch', '1', '--batch', '2'], 'tessera: error: UsageError: tessera bench plan: --batch is given more than once; give it once'],
  ];
  // Through the CLI's entry in this process (the same main() the launcher runs, its return the exit
  // status): each spawn cost two Node starts and a module load (~1.5 s of CPU) for a line printed before
  // any GPU work. One refusal is also spawned: the exit status and stderr a shell sees are the same.
  it('bench --help: --batch as attention, vae and plan read it; the usage line says which benchmarks take fewer common flags', async () => {
    const r = await tesseraInProcess(['bench', '--help']);
    expect(r.code).toBe(0);
    const batch = r.stdout.split('\n').find((l) => l.startsWith('  --batch'));
    expect(batch).toMatch(/attention: batch items \(default 1\); vae: latent batch items \(default 1\); plan: batch items of the step \(default 2: the classifier-free-guidance batch\)$/);
    expect(r.stdout).toContain('(vae takes only --json, --dtype and --repeats of these, plan only --json, ceiling --json, --repeats, --warmup and --trace; --tile gemm, attention and conv, --variants those and block; tessera bench BENCHMARK --help lists its flags)');
  });
  it('spawned: a refusal exits 2 with its one line on stderr, nothing on stdout', async () => {
    const [args, line] = lines.find(([a]) => a[1] === 'gemm')!;
    const r = await tessera(...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(line);
    expect(r.stdout.trim()).toBe('');
  });
  it.each(lines.map(([args, line]) => [args.slice(1).join(' '), args, line] as const))('line: %s', async (_, args, line) => {
    const r = await tesseraInProcess(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(line);
    expect(r.stdout.trim()).toBe('');
  });
  it.each(cases.map(([args, msg]) => [args.slice(1).join(' ') || '(no benchmark)', args, msg] as const))('%s', async (_, args, msg) => {
    const r = await tesseraInProcess(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(r.stdout.trim()).toBe('');
  });
});

describe.skipIf(!hasGpu)('a wrong kernel is refused before timing', () => {
  it('layernorm with a broken shader fails its check and assertCheck throws', async () => {
    // Every stored element doubled: a plausible-looking but wrong kernel (a mutant kept as a
    // fixture file, not a string edit of the shipped kernel).
    setKernelSource('norm', readFileSync(new URL('../fixtures/kernels/norm_output_doubled.wgsl', import.meta.url), 'utf8'));
    invalidateKernel(gpu!, 'norm');
    try {
      const w = layernormWorkload(gpu!, { rows: 4, cols: 40, dtype: 'f32' });
      try {
        const c = await w.check();
        expect(c.ok).toBe(false);
        expect(c.fails).toBeGreaterThan(0);
        expect(() => assertCheck(w.label, c)).toThrow(WrongResultError);
        expect(() => assertCheck(w.label, c)).toThrow(/Refusing to report a time/);
      } finally {
        w.destroy();
      }
    } finally {
      setKernelSource('norm', null);
      invalidateKernel(gpu!, 'norm');
    }
  });
});

describe.skipIf(!hasGpu)('tessera bench suite --quick --json', () => {
  it('one JSON object with a result or a failure per workload', async () => {
    const r = await tessera('bench', 'suite', '--quick', '--json', '--repeats', '1', '--warmup', '0', '--no-wall', '--no-ceiling');
    const j = lastJson(r.stdout);
    expect(j.bench).toBe('suite');
    const results = j.results as Record<string, unknown>[];
    const failures = j.failures as { label: string; error: string }[];
    expect(results.length + failures.length).toBe(3);
    for (const x of results) expectTimed(x, false);
    // Exit status 1 exactly when a kernel was refused as wrong.
    expect(r.code, r.stderr).toBe(failures.length ? 1 : 0);
    expect(failures).toEqual([]);
  });
});

describe.skipIf(!hasGpu)('tessera bench vae --json', () => {
  it('a small VAE folder: milliseconds per decode under the keys every benchmark uses, and its check', async () => {
    const r = await tessera('bench', 'vae', '--vae', 'tests/fixtures/sd_vae_small/vae', '--height', '2', '--width', '2', '--repeats', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.bench).toBe('vae');
    for (const f of ['median_ms', 'min_ms', 'max_ms', 'median_cpu_ms']) expect(j[f], f).toBeTypeOf('number');
    expect(Object.keys(j).filter((k) => k.endsWith('_s'))).toEqual([]);
    expect(j.min_ms as number).toBeLessThanOrEqual(j.median_ms as number);
    expect(j.median_ms as number).toBeLessThanOrEqual(j.max_ms as number);
    expect(j.check).toMatchObject({ finite: true, deterministic: true });
  });
});

describe.skipIf(!hasGpu)('tessera bench block --json', () => {
  it('a tiny DiT block: timed fields plus the per-kernel table', async () => {
    const r = await tessera('bench', 'block', '--hidden', '32', '--heads', '2', '--tokens', '9', '--mlp-ratio', '2', '--json', '--repeats', '2', '--warmup', '0', '--no-wall', '--no-ceiling');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expectTimed(j, false);
    expect(j.args).toEqual({ hidden: 32, heads: 2, tokens: 9, mlp_ratio: 2 });
    const table = j.per_kernel as { kernel: string; calls: number }[];
    // four GEMMs (fused attn1.to_qkv, to_out, two FFN), one attention, two norms, one copy of x_in
    expect(table.reduce((a, k) => a + k.calls, 0)).toBe(8);
    expect(table.some((k) => k.kernel.startsWith('attention'))).toBe(true);
  });

  it('rejects a hidden size that is not a multiple of heads', async () => {
    const r = await tesseraInProcess(['bench', 'block', '--hidden', '30', '--heads', '4', '--tokens', '9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--hidden 30 must be a multiple of --heads 4/);
  });
});
