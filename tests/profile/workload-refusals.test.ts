// The library's benchmark workloads and profilePlan refuse bad arguments before any work (a fresh user's
// report, /tmp/userF misuse1.mjs, big2.mjs, misuse3.mjs): gemmWorkload({ m: 1e6, k: 4096, n: 64 }) generated a
// 15 GiB host array and took 443 s before the op's binding check refused it in CLI wording ("… or --dtype f16");
// m: -4 was a RangeError from a typed array, m: 0 an empty dispatch timed, LayerNorm cols: 0 "NaN rows"; an
// un-awaited acquireGpu() a raw TypeError ("Invalid value used as weak map key" from setTuneMode); f16 without
// shader-f16 "… (use --dtype f32)"; profilePlan ignored { repeat: 2 } and said "got 3" for repeats: '3';
// chromeTrace(undefined) a raw TypeError.
// CPU only: the device below has small limits and no WebGPU device at all, so any work the workload starts
// (a buffer, an upload) fails with a TypeError instead of the refusal asserted.
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.js';
import { Allocator } from '../../src/gpu/tensor.js';
import { LimitError, Plan } from '../../src/gpu/plan.js';
import { setTuneMode } from '../../src/gpu/tune.js';
import { DtypeUnsupportedError, InputError } from '../../src/model/model.js';
import { profilePlan } from '../../src/profile/profiler.js';
import { chromeTrace } from '../../src/profile/report.js';
import { attentionWorkload, blockWorkload, checkWorkloadFits, convWorkload, gemmWorkload, layernormWorkload, workloadTensors } from '../../src/profile/workloads.js';
import { thrown } from '../helpers/errors.js';

const MiB = 2 ** 20;
/** acquireGpu()'s object as checkGpuOption sees it, binding 1 MiB at most, without a device. */
const fakeGpu = (f16 = true): Gpu =>
  ({
    adapterInfo: { vendor: 'fake', architecture: '', device: '', description: '' },
    f16,
    timestamps: false,
    lost: null,
    limits: { maxStorageBufferBindingSize: MiB, maxBufferSize: 4 * MiB },
    destroy() {},
  }) as unknown as Gpu;
const gpu = fakeGpu();
const FITS = 'more than this adapter binds in one buffer (1.0 MiB, maxStorageBufferBindingSize/maxBufferSize)';

describe('workloads: a tensor the adapter cannot bind is refused before any host data (LimitError naming the options)', () => {
  const cases: [string, () => unknown, string][] = [
    ['gemm x', () => gemmWorkload(gpu, { m: 1024, k: 512, n: 64, dtype: 'f32' }), `gemmWorkload: x [M, K] needs 2.0 MiB (524288 × 4 bytes, f32), ${FITS}; use smaller m/k`],
    ['gemm w', () => gemmWorkload(gpu, { m: 8, k: 1024, n: 1024, dtype: 'f16' }), `gemmWorkload: w [N, K] needs 2.0 MiB (1048576 × 2 bytes, f16), ${FITS}; use smaller n/k`],
    ['attention', () => attentionWorkload(gpu, { batch: 1, heads: 8, tokens: 16, kvTokens: 1024, headDim: 64, dtype: 'f32' }), `attentionWorkload: k, v [B, M, H·D] needs 2.0 MiB (524288 × 4 bytes, f32), ${FITS}; use smaller batch/kvTokens/heads/headDim`],
    ['layernorm', () => layernormWorkload(gpu, { rows: 1024, cols: 512, dtype: 'f32' }), `layernormWorkload: x [R, C] needs 2.0 MiB (524288 × 4 bytes, f32), ${FITS}; use smaller rows/cols`],
    ['conv', () => convWorkload(gpu, { height: 63, width: 64, inChannels: 64, outChannels: 8, frames: 3, ks: 3, dtype: 'f32' }), `convWorkload: x [H + 2, W, C_in] (each frame) needs 1.0 MiB (266240 × 4 bytes, f32), ${FITS}; use smaller height/width/inChannels`],
    ['block', () => blockWorkload(gpu, { hidden: 256, heads: 4, tokens: 512, mlpRatio: 4, dtype: 'f32' }), `blockWorkload: qkv [T, 3·D] needs 1.5 MiB (393216 × 4 bytes, f32), ${FITS}, and so do mlp [T, F] (2.0 MiB); use smaller tokens/hidden/mlpRatio`],
  ];
  for (const [name, f, msg] of cases) {
    it(name, () => {
      const e = thrown(f, LimitError);
      expect(e.message.startsWith(msg), e.message).toBe(true);
    });
  }
  it('a tensor of exactly the limit fits', () => {
    expect(() => checkWorkloadFits(gpu, 'gemmWorkload', workloadTensors('gemm', { m: 1024, k: 256, n: 64, dtype: 'f32' }), 'f32')).not.toThrow();
  });
  it('the CLI uses the same check, naming its flags (bench gemm: … use smaller --m/--k)', () => {
    const flag = (o: string) => `--${o}`;
    const e = thrown(() => checkWorkloadFits(gpu, 'bench gemm', workloadTensors('gemm', { m: 1024, k: 512, n: 64, dtype: 'f32' }), 'f32', flag), LimitError);
    expect(e.message).toBe(`bench gemm: x [M, K] needs 2.0 MiB (524288 × 4 bytes, f32), ${FITS}; use smaller --m/--k`);
  });
  it('every tensor over the limit is named, with the flags of all of them (user24 #10: w [K, N] needs --n too)', () => {
    const flag = (o: string) => `--${o}`;
    const e = thrown(() => checkWorkloadFits(gpu, 'bench gemm', workloadTensors('gemm', { m: 1024, k: 1024, n: 1024, dtype: 'f32' }), 'f32', flag), LimitError);
    expect(e.message).toBe(`bench gemm: x [M, K] needs 4.0 MiB (1048576 × 4 bytes, f32), ${FITS}, and so do w [N, K] (4.0 MiB), out [M, N] (4.0 MiB); use smaller --m/--k/--n`);
  });
});

describe('workloads: sizes, dtype, options and gpu refused in one line naming the argument', () => {
  const g = (a: Record<string, unknown>) => () => gemmWorkload(gpu, { m: 64, k: 64, n: 64, dtype: 'f32', ...a } as never);
  const cases: [string, () => unknown, string][] = [
    ['m -4', g({ m: -4 }), 'gemmWorkload: m: a positive integer, got -4'],
    ['m 0', g({ m: 0 }), 'gemmWorkload: m: a positive integer, got 0'],
    ['m 1.5', g({ m: 1.5 }), 'gemmWorkload: m: a positive integer, got 1.5'],
    ['m NaN', g({ m: NaN }), 'gemmWorkload: m: a positive integer, got NaN'],
    ['m "64"', g({ m: '64' }), 'gemmWorkload: m: a positive integer, got "64"'],
    ['k missing', g({ k: undefined }), 'gemmWorkload: k: a positive integer, got undefined'],
    ['dtype bf16', g({ dtype: 'bf16' }), `gemmWorkload: dtype: 'f32' or 'f16', got "bf16"`],
    ['option typo', g({ tiles: {} }), 'tiles: not an option of gemmWorkload; did you mean tile? (options: m, k, n, dtype, tile, strategy)'],
    ['layernorm cols 0', () => layernormWorkload(gpu, { rows: 4, cols: 0, dtype: 'f32' }), 'layernormWorkload: cols: a positive integer, got 0'],
    ['attention heads 0', () => attentionWorkload(gpu, { batch: 1, heads: 0, tokens: 16, kvTokens: 16, headDim: 64, dtype: 'f32' }), 'attentionWorkload: heads: a positive integer, got 0'],
    ['attention kv_tokens', () => attentionWorkload(gpu, { batch: 1, heads: 1, tokens: 16, kv_tokens: 16, headDim: 64, dtype: 'f32' } as never), 'kv_tokens: not an option of attentionWorkload; did you mean kvTokens?'],
    ['attention headDim 65', () => attentionWorkload(gpu, { batch: 1, heads: 1, tokens: 16, kvTokens: 16, headDim: 65, dtype: 'f32' }), 'attentionWorkload: headDim: a multiple of 4 from 8 to 128 (what the attention kernels take), got 65'],
    ['conv frames 2', () => convWorkload(gpu, { height: 4, width: 4, inChannels: 4, outChannels: 4, frames: 2 as 3, ks: 3, dtype: 'f32' }), 'convWorkload: frames: 1 or 3, got 2'],
    ['block heads', () => blockWorkload(gpu, { hidden: 96, heads: 5, tokens: 4, mlpRatio: 4, dtype: 'f32' }), 'blockWorkload: hidden 96 is not a multiple of heads 5'],
    ['block mlpRatio', () => blockWorkload(gpu, { hidden: 64, heads: 2, tokens: 4, mlpRatio: NaN, dtype: 'f32' }), 'blockWorkload: mlpRatio: a number giving an MLP width round(hidden · mlpRatio) ≥ 1, got NaN'],
    ['gemm strategy unknown', g({ strategy: 'bogus' }), 'gemmWorkload: strategy: one of '],
    ['gemm tile and strategy', g({ tile: { SG: 0 }, strategy: 'tiled-64' }), 'gemmWorkload: give tile or strategy, not both'],
    ['attention strategy unknown', () => attentionWorkload(gpu, { batch: 1, heads: 1, tokens: 16, kvTokens: 16, headDim: 64, dtype: 'f32', strategy: 'bogus' as never }), 'attentionWorkload: strategy: one of '],
    ['conv tile knob unknown', () => convWorkload(gpu, { height: 4, width: 4, inChannels: 4, outChannels: 4, frames: 1, ks: 3, dtype: 'f32', tile: { NOPE: 1 } }), 'convWorkload: tile: unknown knob NOPE (known: '],
    ['gpu a Promise', () => gemmWorkload(Promise.resolve(gpu) as never, { m: 64, k: 64, n: 64, dtype: 'f32' }), 'gemmWorkload: gpu: a device from acquireGpu(), got a Promise (await acquireGpu())'],
    ['gpu a GPUDevice', () => layernormWorkload({ createBuffer() {}, queue: {}, destroy() {} } as never, { rows: 4, cols: 4, dtype: 'f32' }), 'layernormWorkload: gpu: a device from acquireGpu(), got a GPUDevice'],
    ['setTuneMode on a GPUDevice', () => setTuneMode({ createBuffer() {}, queue: {}, destroy() {} } as never, 'off'), 'setTuneMode: gpu: a device from acquireGpu(), got a GPUDevice'],
    ['setTuneMode on a Promise', () => setTuneMode(Promise.resolve(gpu) as never, 'off'), 'setTuneMode: gpu: a device from acquireGpu(), got a Promise (await acquireGpu())'],
  ];
  for (const [name, f, msg] of cases) {
    it(name, () => {
      const e = thrown(f, InputError);
      expect(e.message.startsWith(msg), e.message).toBe(true);
    });
  }

  it('f16 on an adapter without shader-f16: DtypeUnsupportedError naming the dtype option (the CLI maps it to --dtype)', () => {
    const e = thrown(() => gemmWorkload(fakeGpu(false), { m: 64, k: 64, n: 64, dtype: 'f16' }), DtypeUnsupportedError);
    expect(e.message).toBe("gemmWorkload: dtype: 'f16' needs the adapter feature shader-f16, which fake lacks: use dtype: 'f32'");
  });
});

describe('profilePlan and chromeTrace: arguments refused in one line', () => {
  const plan = new Plan(gpu, new Allocator(gpu));
  const cases: [string, () => Promise<unknown>, string][] = [
    ['an unknown option, with a did-you-mean', () => profilePlan(plan, { repeat: 2 } as never), 'repeat: not an option of profilePlan; did you mean repeats? (options: repeats, warmup, forceWallClock, residentBytes, between, pace)'],
    ['repeats as a string, quoted', () => profilePlan(plan, { repeats: '3' } as never), 'profilePlan: repeats must be an integer ≥ 1, got "3"'],
    ['warmup -1', () => profilePlan(plan, { warmup: -1 }), 'profilePlan: warmup must be an integer ≥ 0, got -1'],
    ['a workload for its plan', () => profilePlan({ name: 'gemm', plan } as never), "profilePlan: plan: a recorded Plan (a workload's .plan, model.planFor(inputs)), got a workload (pass its .plan)"],
    ['undefined', () => profilePlan(undefined as never), "profilePlan: plan: a recorded Plan (a workload's .plan, model.planFor(inputs)), got undefined"],
  ];
  for (const [name, f, msg] of cases) {
    it(name, async () => {
      const e = await f().then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toBe(msg);
    });
  }
  it('chromeTrace(undefined), and a run without its name', () => {
    expect(thrown(() => chromeTrace(undefined as never), InputError).message).toBe('chromeTrace: runs: a ProfileRun (from profilePlan) or a list of { name, run } (run: a ProfileRun), got undefined');
    const run = { timing: 'wall-clock', dispatches: [] };
    expect(thrown(() => chromeTrace([run] as never), InputError).message).toBe('chromeTrace: runs: a ProfileRun (from profilePlan) or a list of { name, run } (run: a ProfileRun), got at [0] a ProfileRun without a name (wrap it: { name, run })');
  });
});
