// Audit 12 D: the public API as a contract.
// - parseBytes: a size under one byte ("0.5") was floored to a budget of 0 B after the positive
//   check; the exponent forms its docstring promises ("1e+9") were refused; a syntax error was a
//   LimitError. Now an InputError naming the option (the CLI: the flag or variable, exit 2).
// - Name tables looked up through Object.prototype: 'constructor' was a scheduler and a preset.
// - A step count the scheduler cannot run: StepCountError (with maxSteps) from generate() too.
// - TESSERA_TUNE_MIN_FLOPS decimal only; a relative XDG_CACHE_HOME ignored (XDG spec);
//   estimateWeights refuses a dtype it cannot store.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { implicitTuneMinFlops, TuneEnvError } from '../../src/gpu/tune.js';
import { tuneCachePath } from '../../src/gpu/tune-store-node.js';
import { parseConfig } from '../../src/model/config.js';
import { estimateWeights, LimitError, parseBytes } from '../../src/model/memory.js';
import { InputError, loadModel } from '../../src/model/model.js';
import { getPreset, PRESETS, presetNames } from '../../src/model/presets.js';
import { makeScheduler, resolveSchedulerClass, SchedulerConfigError, StepCountError } from '../../src/sampler/config.js';
import { generate } from '../../src/sampler/generate.js';
import { randn } from '../../src/random.js';
import { thrown } from '../helpers/errors.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { cli } from './helpers.js';

const SUPPORTED = 'FlowMatchEulerDiscreteScheduler, DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler (short names flow-match-euler, ddim, unipc, dpm-solver, dpmpp)';
const NOT_A_SIZE = '(expected e.g. 512MiB, 2GiB or a number of bytes)';

describe('parseBytes', () => {
  it('a size under one byte is refused, not a budget of 0 B', () => {
    for (const s of ['0.5', '0.1b', '1e-3', '0', '0GiB', '0.0000001k']) {
      const e = thrown(() => parseBytes(s), InputError);
      expect(e.message).toBe(`maxMemory: not a positive memory size: "${s}"`);
    }
    expect(parseBytes('1')).toBe(1);
    expect(parseBytes('1.9')).toBe(1);
  });

  it('exponent forms as documented; a syntax error is an InputError (not LimitError) naming the option', () => {
    expect(parseBytes('1e9')).toBe(1e9);
    expect(parseBytes('1e+9')).toBe(1e9);
    expect(parseBytes('1E9')).toBe(1e9);
    expect(parseBytes('2.5e3')).toBe(2500);
    expect(parseBytes('1e-3k')).toBe(1);
    for (const s of ['', 'lots', '-1GiB', '0x10', '+5', '2 parsecs', '1e']) {
      const e = thrown(() => parseBytes(s), InputError);
      expect(e).not.toBeInstanceOf(LimitError);
      expect(e.message).toBe(`maxMemory: not a memory size: "${s}" ${NOT_A_SIZE}`);
    }
    expect(thrown(() => parseBytes('1e999'), InputError).message).toBe('maxMemory: not a positive memory size: "1e999"');
    expect(thrown(() => parseBytes('lots', '--max-memory'), InputError).message).toBe(`--max-memory: not a memory size: "lots" ${NOT_A_SIZE}`);
    expect(thrown(() => parseBytes(5 as never), InputError).message).toBe(`maxMemory: not a memory size: 5 ${NOT_A_SIZE}`);
  });

  it("loadModel's maxMemory '0.5': InputError naming maxMemory, before anything is read", async () => {
    const e = await loadModel(join(FIXTURES, 'wan_small', 'model'), { maxMemory: '0.5' }).then(
      () => null,
      (x: unknown) => x as Error,
    );
    expect(e).toBeInstanceOf(InputError);
    expect(e!.message).toBe('maxMemory: not a positive memory size: "0.5"');
  });
});

describe('name tables: own keys only', () => {
  it("resolveSchedulerClass / makeScheduler: 'constructor', '__proto__', 'toString' are not schedulers", () => {
    for (const n of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(thrown(() => resolveSchedulerClass(n), SchedulerConfigError).message).toBe(`scheduler: scheduler "${n}" is not supported; supported: ${SUPPORTED}`);
      expect(thrown(() => makeScheduler(n, 3), SchedulerConfigError).message).toBe(`name: scheduler "${n}" is not supported; supported: ${SUPPORTED}`);
    }
    expect(thrown(() => resolveSchedulerClass(5 as never), SchedulerConfigError).message).toBe(`scheduler: a scheduler class or short name (a string), got 5; supported: ${SUPPORTED}`);
    expect(resolveSchedulerClass('DDIM')).toBe('DDIMScheduler');
    expect(resolveSchedulerClass('dpmpp')).toBe('DPMSolverMultistepScheduler');
  });

  it("getPreset: 'constructor', 'toString', '__proto__' are unknown presets", () => {
    for (const n of ['constructor', 'toString', '__proto__']) {
      expect(thrown(() => getPreset(n), InputError).message).toBe(`unknown preset "${n}"; presets: ${presetNames().join(', ')}`);
    }
    expect(getPreset('wan-1.3b')).toBe(PRESETS['wan-1.3b']);
  });
});

describe('estimateWeights dtype', () => {
  it("refuses 'bf16' and other values as estimateMemory does", () => {
    const c = parseConfig(PRESETS['wan-1.3b']!.config);
    expect(thrown(() => estimateWeights(c, 'bf16' as never), InputError).message).toBe(`dtype: 'f32' or 'f16', got "bf16"`);
    expect(thrown(() => estimateWeights(c, 'x' as never), InputError).message).toBe(`dtype: 'f32' or 'f16', got "x"`);
    expect(thrown(() => estimateWeights(c, undefined as never), InputError).message).toBe("dtype: missing ('f32' or 'f16')");
    expect(estimateWeights(c, 'f16').bytes).toBeLessThan(estimateWeights(c, 'f32').bytes);
  });
});

const saved = { floor: process.env.TESSERA_TUNE_MIN_FLOPS, xdg: process.env.XDG_CACHE_HOME };
const restore = (name: string, v: string | undefined) => (v === undefined ? delete process.env[name] : (process.env[name] = v));

describe('tuning environment', () => {
  afterEach(() => {
    restore('TESSERA_TUNE_MIN_FLOPS', saved.floor);
    restore('XDG_CACHE_HOME', saved.xdg);
  });

  it('TESSERA_TUNE_MIN_FLOPS: decimal only (0x10, 0b11, +5, -0 refused as the CLI refuses them)', () => {
    for (const [v, n] of [['0', 0], ['16777216', 16777216], ['1e7', 1e7], ['2.5', 2.5], [' 12 ', 12], ['1E+3', 1000]] as const) {
      process.env.TESSERA_TUNE_MIN_FLOPS = v;
      expect(implicitTuneMinFlops()).toBe(n);
    }
    for (const v of ['0x10', '0b11', '0o7', '+5', '-0', '-1', 'Infinity', '1e999', 'abc', '1_000']) {
      process.env.TESSERA_TUNE_MIN_FLOPS = v;
      expect(thrown(() => implicitTuneMinFlops(), TuneEnvError).message).toBe(
        `TESSERA_TUNE_MIN_FLOPS: ${JSON.stringify(v)} is not a number of FLOPs; expected a number ≥ 0 such as 0 or 1e7 (unset: 2^24 = ${2 ** 24})`,
      );
    }
  });

  it('a relative XDG_CACHE_HOME is ignored (XDG Base Directory spec): ~/.cache', () => {
    const home = join(homedir(), '.cache', 'tessera', 'tune.json');
    for (const rel of ['relcache', './c', '../c']) {
      process.env.XDG_CACHE_HOME = rel;
      expect(tuneCachePath()).toBe(home);
    }
    process.env.XDG_CACHE_HOME = '';
    expect(tuneCachePath()).toBe(home);
    process.env.XDG_CACHE_HOME = '/tmp/xdg-abs';
    expect(tuneCachePath()).toBe('/tmp/xdg-abs/tessera/tune.json');
  });
});

describe('CLI: --max-memory / TESSERA_MAX_GPU_MEMORY under one byte, --scheduler constructor', () => {
  it('--max-memory 0.5: UsageError naming the flag and the value, exit 2', async () => {
    const r = await cli(['generate', '--steps', '1', '--max-memory', '0.5', '--out', '/tmp/tessera-12d-never.safetensors']);
    expect(r.errLines).toEqual(['tessera: error: UsageError: --max-memory: not a positive memory size: "0.5"']);
    expect(r.code).toBe(2);
  }, 60_000);

  it('TESSERA_MAX_GPU_MEMORY=0.5: UsageError naming the variable and the value, exit 2', async () => {
    const r = await cli(['generate', '--steps', '1', '--out', '/tmp/tessera-12d-never.safetensors'], { TESSERA_MAX_GPU_MEMORY: '0.5' });
    expect(r.errLines).toEqual(['tessera: error: UsageError: TESSERA_MAX_GPU_MEMORY: not a positive memory size: "0.5"']);
    expect(r.code).toBe(2);
  }, 60_000);

  it('--scheduler constructor: UsageError listing the schedulers, exit 2', async () => {
    const r = await cli(['generate', '--scheduler', 'constructor', '--steps', '2', '--out', '/tmp/tessera-12d-never.safetensors']);
    expect(r.errLines).toEqual([
      'tessera: error: UsageError: --scheduler must be one of FlowMatchEulerDiscreteScheduler, DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler (or flow-match-euler, ddim, unipc, dpm-solver, dpmpp), got "constructor"',
    ]);
    expect(r.code).toBe(2);
  }, 60_000);
});

describe.skipIf(!hasGpu)('generate(): a step count the scheduler cannot run is a StepCountError', () => {
  it('UniPC 500 steps: StepCountError with maxSteps 333; DDIM 1001: StepCountError; scheduler "constructor": SchedulerConfigError', async () => {
    const m = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    try {
      const base = { num_inference_steps: 1, latents: { data: randn(4 * 2 * 6 * 8, 1), shape: [1, 4, 2, 6, 8] }, encoder_hidden_states: { data: randn(6 * 24, 2), shape: [1, 6, 24] } };
      const unipc = { _class_name: 'UniPCMultistepScheduler', flow_shift: 3.0, prediction_type: 'flow_prediction', solver_order: 2, solver_type: 'bh2', use_flow_sigmas: true, lower_order_final: true, final_sigmas_type: 'zero', num_train_timesteps: 1000 };
      const fail = (o: object) => generate(m, o as never).then(() => null, (e: unknown) => e as Error);
      const a = await fail({ ...base, scheduler_config: unipc, num_inference_steps: 500 });
      expect(a).toBeInstanceOf(StepCountError);
      expect(a!.message).toMatch(/^num_inference_steps 500 is too many for UniPCMultistepScheduler with scheduler_config: .*: use at most 333$/);
      expect((a as StepCountError).maxSteps).toBe(333);
      const b = await fail({ ...base, scheduler: 'ddim', num_inference_steps: 1001 });
      expect(b).toBeInstanceOf(StepCountError);
      expect(b!.message).toBe('num_inference_steps must be an integer in [1, 1000] (num_train_timesteps), got 1001');
      const c = await fail({ ...base, scheduler: 'constructor' });
      expect(c).toBeInstanceOf(SchedulerConfigError);
      expect(c!.message).toBe(`scheduler: scheduler "constructor" is not supported; supported: ${SUPPORTED}`);
    } finally {
      m.dispose();
    }
  }, 120_000);
});
