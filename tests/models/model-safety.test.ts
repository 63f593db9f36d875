// A DiffusionModel used as a library: concurrent calls queue instead of overwriting each other's
// inputs, calls after dispose() say so, load options are checked before any work, and messages
// name the library's options (the CLI maps them to its flags).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { acquireGpu, GpuError, type Gpu } from '../../src/gpu/device.js';
import { DisposedError } from '../../src/gpu/serial.js';
import { checkRunFits, checkWeightsFit, LimitError } from '../../src/model/memory.js';
import { InputError, loadModel, type ForwardInputs } from '../../src/model/model.js';
import { loadRandomModel, PRESETS } from '../../src/model/presets.js';
import { parseConfig } from '../../src/model/config.js';
import { generate } from '../../src/sampler/generate.js';
import { StepCountError } from '../../src/sampler/config.js';
import { randn } from '../../src/random.js';
import { flagNames } from '../../src/cli/errors.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { cli, inputsWith, tempDir } from '../hardening/helpers.js';
import { readInputs } from '../../src/io/inputs.js';

const WAN = join(FIXTURES, 'wan_small', 'model');
const DIT = join(FIXTURES, 'dit_small', 'model');

/** Wan fixture inputs: latents [1, 4, 2, 6, 8], text [1, 6, 24]. */
const wanInputs = (seed: number, t = 500): ForwardInputs => ({
  hidden_states: { data: randn(4 * 2 * 6 * 8, seed), shape: [1, 4, 2, 6, 8] },
  timestep: [t],
  encoder_hidden_states: { data: randn(6 * 24, seed + 100), shape: [1, 6, 24] },
});
const ditOptions = (seed: number) => ({ scheduler: 'ddim', num_inference_steps: 2, seed, shape: [1, 4, 8, 8], class_labels: [seed % 10] });

async function thrown(p: Promise<unknown>): Promise<Error> {
  const r = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(r instanceof Error)) throw new Error('expected a rejection');
  return r;
}

/** A device stand-in: any GPU work on it throws a TypeError (nothing may reach it). */
const standIn = () => ({ f16: true, limits: {}, adapterInfo: { vendor: 'stand-in', architecture: '', device: '', description: '' }, destroy() {} }) as unknown as Gpu;

describe.skipIf(!hasGpu)('one call at a time per model', () => {
  it('two forward() calls at once return what each returns alone (same shape: one recorded plan)', async () => {
    const m = await loadModel(WAN, { gpu: gpu! });
    try {
      const a = wanInputs(1, 900);
      const b = wanInputs(2, 100);
      const ra = await m.forward(a);
      const rb = await m.forward(b);
      expect(ra.data).not.toEqual(rb.data);
      const [pa, pb] = await Promise.all([m.forward(a), m.forward(b)]);
      expect(pa.data).toEqual(ra.data);
      expect(pb.data).toEqual(rb.data);
    } finally {
      m.dispose();
    }
  });

  it('two generate() calls at once, and a forward() during a generate(), return their sequential results', async () => {
    const m = await loadModel(DIT, { gpu: gpu! });
    try {
      const s1 = await generate(m, ditOptions(1));
      const s2 = await generate(m, ditOptions(2));
      const x: ForwardInputs = { hidden_states: { data: randn(4 * 8 * 8, 5), shape: [1, 4, 8, 8] }, timestep: [300], class_labels: [3] };
      const f = await m.forward(x);
      const [p1, pf, p2] = await Promise.all([generate(m, ditOptions(1)), m.forward(x), generate(m, ditOptions(2))]);
      expect(p1.latents.data).toEqual(s1.latents.data);
      expect(p2.latents.data).toEqual(s2.latents.data);
      expect(pf.data).toEqual(f.data);
    } finally {
      m.dispose();
    }
  });
});

describe.skipIf(!hasGpu)('after dispose()', () => {
  it('forward, generate, locateNonFinite and planFor throw DisposedError naming the model; destroy() is the same', async () => {
    const m = await loadModel(WAN, { gpu: gpu! });
    await m.forward(wanInputs(1));
    m.destroy();
    const msg = `model ${m.name} was disposed: load it again to use it`;
    for (const p of [m.forward(wanInputs(1)), generate(m, { scheduler: 'flow-match-euler', num_inference_steps: 1, latents: wanInputs(1).hidden_states, encoder_hidden_states: wanInputs(1).encoder_hidden_states }), m.locateNonFinite(wanInputs(1))]) {
      const e = await thrown(p);
      expect(e).toBeInstanceOf(DisposedError);
      expect(e.message).toBe(msg);
    }
    expect(() => m.planFor(wanInputs(1))).toThrow(new DisposedError(msg));
    m.dispose(); // twice: harmless
  });

  it('dispose() during calls: calls made before it (running or queued) finish, later ones throw DisposedError, the buffers are freed after', async () => {
    const m = await loadModel(WAN, { gpu: gpu! });
    const want3 = await m.forward(wanInputs(3));
    const want4 = await m.forward(wanInputs(4));
    const running = m.forward(wanInputs(3));
    const queued = m.forward(wanInputs(4));
    m.dispose();
    const later = thrown(m.forward(wanInputs(3)));
    expect((await running).data).toEqual(want3.data);
    expect((await queued).data).toEqual(want4.data);
    const e = await later;
    expect(e).toBeInstanceOf(DisposedError);
    await new Promise((r) => setTimeout(r, 0)); // the free runs once the queue has settled
    expect(m.gpuBytes).toBe(0);
  });

  it('a device lost mid-generate names the step once', async () => {
    const own = await acquireGpu();
    try {
      const m = await loadModel(WAN, { gpu: own });
      const x = wanInputs(1);
      const e = await thrown(
        generate(m, {
          scheduler: 'flow-match-euler',
          num_inference_steps: 4,
          latents: x.hidden_states,
          encoder_hidden_states: x.encoder_hidden_states,
          onStep: (s) => {
            if (s === 2) own.device.destroy();
          },
        }),
      );
      expect(e).toBeInstanceOf(GpuError);
      expect(e.message).toMatch(/^step 3\/4: GPU device lost \(destroyed\)/);
      expect(e.message.match(/step 3\/4/g)).toHaveLength(1);
    } finally {
      own.destroy();
    }
  });
});

describe('load options are checked before any file or GPU work', () => {
  it('dtype, variant, maxMemory of the wrong kind: InputError naming the option (loadModel and loadRandomModel)', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ dtype: 'f64' }, `dtype: 'f32' or 'f16', got "f64"`],
      [{ dtype: 'bf16' }, `dtype: 'f32' or 'f16', got "bf16"`],
      [{ variant: 16 }, 'variant: a weight variant name such as "fp16", got 16'],
      [{ maxMemory: 'plenty' }, 'maxMemory: not a memory size: "plenty" (expected e.g. 512MiB, 2GiB or a number of bytes)'],
      [{ maxMemory: -1 }, 'maxMemory: a number of bytes > 0 or a size such as "2GiB", got -1'],
      [{ maxMemory: {} }, 'maxMemory: a number of bytes > 0 or a size such as "2GiB", got {}'],
      [{ onProgress: 1 }, 'onProgress: a function, got 1'],
      // a typo would otherwise load f32 with no budget, silently
      [{ dtyp: 'f16' }, 'dtyp: not an option of loadModel; did you mean dtype? (options: gpu, device, dtype, onProgress, maxMemory, preflight, variant, signal, unexpectedKeys, onWarning)'],
      [{ max_memory: 1 }, 'max_memory: not an option of loadModel; did you mean maxMemory? (options: gpu, device, dtype, onProgress, maxMemory, preflight, variant, signal, unexpectedKeys, onWarning)'],
    ];
    for (const [opts, msg] of cases) {
      // a missing folder: the options are refused before the folder is opened
      const e = await thrown(loadModel('/nonexistent/model', { gpu: standIn(), ...opts } as never));
      expect(e, msg).toBeInstanceOf(InputError);
      expect(e.message).toBe(msg);
      // the README: an option check names its option in e.option (dtype, variant, maxMemory had none)
      expect((e as InputError).option, msg).toBe(msg.split(':')[0]);
    }
    const e = await thrown(loadRandomModel(PRESETS['dit-tiny']!.config, { gpu: standIn(), dtype: 'f64' as never }));
    expect(e).toEqual(new InputError(`dtype: 'f32' or 'f16', got "f64"`, { option: 'dtype' }));
    const s = await thrown(loadRandomModel(PRESETS['dit-tiny']!.config, { gpu: standIn(), seed: 0.5 }));
    expect([s.message, (s as InputError).option]).toEqual(['seed: an integer (safe-integer range), got 0.5', 'seed']);
  });

  it.skipIf(!hasGpu)('maxMemory as a size string is parsed and enforced', async () => {
    const e = await thrown(loadModel(WAN, { gpu: gpu!, maxMemory: '1KiB' }));
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(/^the model's weights need [\d.]+ KiB in f32 \(2 layers, dim \d+\), above the budget of 1\.0 KiB \(maxMemory\): a larger maxMemory budget or a smaller model$/);
    const m = await loadModel(WAN, { gpu: gpu!, maxMemory: '2GiB' });
    try {
      expect(m.maxMemory).toBe(2 * 2 ** 30);
    } finally {
      m.dispose();
    }
  });
});

describe('LimitError suggestions that would work, in the library\'s names', () => {
  const wan13b = parseConfig(PRESETS['wan-1.3b']!.config);
  const LIMITS = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 128 * 2 ** 20 };

  it('f16 is suggested only when the run would fit in f16; otherwise how much must shrink', () => {
    const refusal = (latent: number[]): Error => {
      try {
        checkRunFits(wan13b, latent, [1, 512, 4096], 'f32', LIMITS, { f16: true });
      } catch (x) {
        return x as Error;
      }
      throw new Error('fits');
    };
    const e = refusal([1, 16, 101, 160, 240]);
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).not.toContain('f16');
    expect(e.message).toMatch(/: use fewer frames \(\d+ latent frames? fits? at this resolution\) or a smaller resolution$/);
    // a small run where f16 halves the binding under the limit: suggested
    const ok = refusal([1, 16, 3, 136, 240]);
    expect(ok.message).toMatch(/ or dtype: 'f16' \(half the bytes\)$/);
    // weights over a tiny budget: f16 would not fit either
    expect(() => checkWeightsFit(parseConfig(PRESETS['dit-tiny']!.config), 'f32', LIMITS, { maxMemory: 1000, f16: true })).toThrow(/above the budget of 1000 B \(maxMemory\): a larger maxMemory budget or a smaller model$/);
  });

  it('the CLI shows its flags for the library names', () => {
    expect(flagNames("above the budget of 2.00 GiB (maxMemory): try dtype: 'f16' (half the bytes), or a larger maxMemory budget")).toBe('above the budget of 2.00 GiB (--max-memory / TESSERA_MAX_GPU_MEMORY): try --dtype f16 (half the bytes), or a larger --max-memory budget');
    expect(flagNames('a larger maxMemory budget or a smaller model')).toBe('a larger --max-memory budget or a smaller model');
  });
});

describe.skipIf(!hasGpu)('generate() and forward() messages: library option names, values quoted, conflicts refused', () => {
  it('generate: shift, num_inference_steps, guidance_scale, two names for one input, latents vs shape, unknown options', async () => {
    const m = await loadModel(WAN, { gpu: gpu! });
    const d = await loadModel(DIT, { gpu: gpu! });
    try {
      const x = wanInputs(1);
      const base = { scheduler: 'flow-match-euler', num_inference_steps: 1, latents: x.hidden_states, encoder_hidden_states: x.encoder_hidden_states };
      const bytes = m.gpuBytes;
      const cases: [object, Function, string][] = [
        [{ ...base, scheduler: 'ddim', shift: 3 }, InputError, "shift sets the shift of flow-matching schedules (FlowMatchEulerDiscreteScheduler's shift, UniPC / DPM-Solver's flow_shift with use_flow_sigmas), not DDIMScheduler, which has no shift: leave out shift, or give scheduler: 'flow-match-euler'"],
        [{ ...base, shift: 0 }, InputError, 'shift: a number > 0, got 0'],
        [{ ...base, num_inference_steps: 1e7 }, StepCountError, 'num_inference_steps must be an integer in [1, 1000] (num_train_timesteps), got 10000000'],
        [{ ...base, onStep: 5 }, InputError, 'onStep: a function, got 5'],
        [{ ...base, seed: 1n }, InputError, "seed: an integer in 0..4294967295 (the noise generator's seed is 32 bits), got the bigint 1n"],
        [{ ...base, shift: '2' }, InputError, 'shift: a number > 0, got "2"'],
        [{ ...base, num_inference_steps: '2' }, InputError, 'num_inference_steps: a positive integer, got "2"'],
        [{ ...base, guidance_scale: '5' }, InputError, 'guidance_scale: a finite number, got "5"'],
        [{ ...base, guidance_scale: 5 }, InputError, 'negative_encoder_hidden_states: missing; guidance 5 > 1 needs the negative text embeddings (or guidance_scale: 1)'],
        [{ ...base, prompt_embeds: x.encoder_hidden_states }, InputError, "encoder_hidden_states and prompt_embeds are the same input (diffusers' two names for it): give one"],
        [{ ...base, negative_encoder_hidden_states: x.encoder_hidden_states, negative_prompt_embeds: x.encoder_hidden_states }, InputError, "negative_encoder_hidden_states and negative_prompt_embeds are the same input (diffusers' two names for it): give one"],
        [{ ...base, shape: [1, 4, 2, 6, 16] }, InputError, 'latents [1,4,2,6,8] and shape [1,4,2,6,16] disagree: shape is for seeded noise; give latents or shape'],
        [{ ...base, latents: undefined }, InputError, 'latents: missing; give `latents`, or `shape` (with `seed`) for seeded noise'],
        [{ ...base, stepz: 1 }, InputError, 'stepz: not an option of generate (options: scheduler, scheduler_config, num_inference_steps, guidance_scale, shift, latents, seed, shape, encoder_hidden_states, negative_encoder_hidden_states, prompt_embeds, negative_prompt_embeds, class_labels, onStep, signal, onWarning, onStepProfile, onBlock)'],
        [{ ...base, dtype: 'f16' }, InputError, 'dtype: not an option of generate but of loadModel (options: scheduler, scheduler_config, num_inference_steps, guidance_scale, shift, latents, seed, shape, encoder_hidden_states, negative_encoder_hidden_states, prompt_embeds, negative_prompt_embeds, class_labels, onStep, signal, onWarning, onStepProfile, onBlock)'],
      ];
      for (const [o, cls, msg] of cases) {
        const e = await thrown(generate(m, o as never));
        expect(e.message).toBe(msg);
        expect(e).toBeInstanceOf(cls);
      }
      // the same shape as the latents is no conflict
      await expect(generate(m, { ...base, shape: [1, 4, 2, 6, 8] })).resolves.toBeDefined();
      // negative text given to an unguided run is not read: one note says so (user22 finding 5: silently unused)
      const lines: string[] = [];
      await generate(m, { ...base, negative_prompt_embeds: x.encoder_hidden_states, onWarning: (l) => void lines.push(l) });
      expect(lines).toEqual(['note: negative_prompt_embeds unused: guidance_scale 1 ≤ 1 disables classifier-free guidance (as diffusers\' do_classifier_free_guidance, guidance_scale > 1); give guidance_scale > 1 to use them']);
      expect(m.gpuBytes).toBeGreaterThan(bytes);
      // DiT: class ids echoed as given, with what is wrong with them
      const dit = (class_labels: unknown) => d.forward({ hidden_states: { data: new Float32Array(256), shape: [1, 4, 8, 8] }, timestep: [1], class_labels: class_labels as never });
      const range = 'expected 0…10 (10 = the null class used for guidance)';
      expect((await thrown(dit(['3']))).message).toBe(`class_labels: value "3" at index 0 is not a number: ${range}`);
      expect((await thrown(dit([2.5]))).message).toBe(`class_labels: value 2.5 at index 0 is not an integer: ${range}`);
      expect((await thrown(dit(BigInt64Array.from([11n])))).message).toBe(`class_labels: value 11 at index 0 is out of range: ${range}`);
      expect((await thrown(dit(3))).message).toBe('class_labels: expected a list of 1 class ids (numbers or bigint), got 3');
      // int64 labels (diffusers' LongTensor) and Int32Array are the same ids as numbers
      const asNumber = await dit([3]);
      expect((await dit(BigInt64Array.from([3n]))).data).toEqual(asNumber.data);
      expect((await dit(Int32Array.from([3]))).data).toEqual(asNumber.data);
    } finally {
      m.dispose();
      d.dispose();
    }
  });

  it('forward: an input the family does not take is refused with the accepted names; timesteps any finite number or bigint', async () => {
    const m = await loadModel(WAN, { gpu: gpu! });
    try {
      const x = wanInputs(1);
      const e = await thrown(m.forward({ ...x, class_labels: [1] }));
      expect(e).toEqual(new InputError('class_labels: not an input of forward for a wan model (inputs: hidden_states, timestep, encoder_hidden_states)', { option: 'class_labels' }));
      for (const t of [NaN, Infinity, '5']) {
        const n = await thrown(m.forward({ ...x, timestep: [t as number] }));
        expect(n).toEqual(new InputError(`timestep: value at index 0 is not ${typeof t === 'string' ? 'a number ("5")' : `finite (${t})`}`, { option: 'timestep' }));
      }
      expect(await thrown(m.forward({ ...x, timestep: 500 as never }))).toEqual(new InputError('timestep: expected a list of 1 values (one per batch item; numbers or bigint), got 500', { option: 'timestep' }));
      // a tensor whose data is another array type is present, of the wrong type: said so
      const f64 = { data: Float64Array.from(x.hidden_states.data), shape: x.hidden_states.shape };
      expect(await thrown(m.forward({ ...x, hidden_states: f64 as never }))).toEqual(new InputError('hidden_states: expected data as a Float32Array, got a Float64Array (Float32Array.from converts it)', { option: 'hidden_states' }));
      expect(await thrown(m.forward({ ...x, hidden_states: x.hidden_states.data as never }))).toEqual(new InputError('hidden_states: expected { data: Float32Array, shape: number[] } ([B, C, F, H, W] latents), got a Float32Array', { option: 'hidden_states' }));
      expect(await thrown(m.forward({ ...x, hidden_states: undefined as never }))).toEqual(new InputError('hidden_states: missing ([B, C, F, H, W] latents)', { option: 'hidden_states' }));
      expect(await thrown(m.forward({ ...x, encoder_hidden_states: { data: [0], shape: [1, 1, 24] } as never }))).toEqual(new InputError('encoder_hidden_states: expected data as a Float32Array, got an array (Float32Array.from converts it)', { option: 'encoder_hidden_states' }));
      expect(await thrown(m.forward({ ...x, encoder_hidden_states: { data: new Float32Array(24) } as never }))).toEqual(new InputError('encoder_hidden_states: expected shape as a list of dims, got no shape', { option: 'encoder_hidden_states' }));
      const asNumber = await m.forward({ ...x, timestep: [500] });
      expect((await m.forward({ ...x, timestep: BigInt64Array.from([500n]) })).data).toEqual(asNumber.data);
      // outside the training range is taken (the embedding is defined there); only non-finite is refused
      await expect(m.forward({ ...x, timestep: [-5] })).resolves.toBeDefined();
    } finally {
      m.dispose();
    }
  });

  it('CLI forward: an I64 timestep (as diffusers stores them) gives the F32 result', async () => {
    const dir = tempDir();
    const i64 = await inputsWith('wan_small', (t) => {
      const ts = t.get('timestep')!;
      t.set('timestep', { dtype: 'I64', shape: ts.shape, i64: BigInt64Array.from(ts.f32!, (v) => BigInt(Math.round(v))) });
    });
    const f32 = await inputsWith('wan_small', (t) => {
      const ts = t.get('timestep')!;
      t.set('timestep', { dtype: 'F32', shape: ts.shape, f32: Float32Array.from(ts.f32!, (v) => Math.round(v)) });
    });
    const a = await cli(['forward', '--model', WAN, '--inputs', i64, '--out', join(dir, 'a.safetensors')]);
    expect(a.code, a.stderr).toBe(0);
    const b = await cli(['forward', '--model', WAN, '--inputs', f32, '--out', join(dir, 'b.safetensors')]);
    expect(b.code, b.stderr).toBe(0);
    const [ra, rb] = [await readInputs(join(dir, 'a.safetensors')), await readInputs(join(dir, 'b.safetensors'))];
    expect(ra.get('sample')!.f32).toEqual(rb.get('sample')!.f32);
  });
});
