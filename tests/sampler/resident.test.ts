// The GPU-resident loop (guidance and scheduler updates as lincomb dispatches, state on the GPU)
// against a host loop over the same schedule: model.forward read back every step, guidance and
// the step program in float64 (runProgramCpu). Situations beyond the goldens: batch 2 and 3,
// learned-sigma rows with CFG, DDIM's clamp, every multistep order, f16 storage.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { relError } from '../helpers/compare.js';
import { loadModel, type DiffusionModel } from '../../src/model/model.js';
import { generate } from '../../src/sampler/generate.js';
import { schedulerFromConfig } from '../../src/sampler/config.js';
import { runProgramCpu } from '../../src/sampler/program.js';
import { randn } from '../../src/random.js';
import type { DType } from '../../src/gpu/tensor.js';
import { LimitError } from '../../src/model/memory.js';

interface Case {
  what: string;
  model: string;
  dtype: DType;
  shape: number[];
  config: Record<string, unknown>;
  steps: number;
  guidance: number;
  tol: number;
}

const WAN_UNIPC = { _class_name: 'UniPCMultistepScheduler', prediction_type: 'flow_prediction', use_flow_sigmas: true, flow_shift: 3, solver_order: 2, solver_type: 'bh2' };
const CASES: Case[] = [
  { what: 'Wan, batch 2, CFG 5, UniPC order 3 with the corrector', model: 'wan_sampler_unipc_small', dtype: 'f32', shape: [2, 4, 2, 6, 8], config: { ...WAN_UNIPC, solver_order: 3 }, steps: 6, guidance: 5, tol: 1e-5 },
  { what: 'Wan, batch 1, no CFG, UniPC bh1 order 2 to sigma_min', model: 'wan_sampler_unipc_small', dtype: 'f32', shape: [1, 4, 2, 6, 8], config: { ...WAN_UNIPC, solver_type: 'bh1', final_sigmas_type: 'sigma_min' }, steps: 4, guidance: 1, tol: 1e-5 },
  { what: 'DiT (learned sigma), batch 2, CFG 4, DPM-Solver++ order 3 karras', model: 'dit_sampler_dpmpp_small', dtype: 'f32', shape: [2, 4, 8, 8], config: { _class_name: 'DPMSolverMultistepScheduler', beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, solver_order: 3, use_karras_sigmas: true }, steps: 7, guidance: 4, tol: 1e-5 },
  { what: 'DiT, batch 3, no CFG, DDIM v-prediction with clip_sample (the clamp)', model: 'dit_sampler_dpmpp_small', dtype: 'f32', shape: [3, 4, 8, 8], config: { _class_name: 'DDIMScheduler', prediction_type: 'v_prediction', clip_sample: true, clip_sample_range: 0.5 }, steps: 4, guidance: 1, tol: 1e-5 },
  { what: 'DiT, batch 2, no CFG, DDIM zero-terminal SNR, epsilon, clip_sample (x0 = ±inf at t 999, clamped)', model: 'dit_sampler_dpmpp_small', dtype: 'f32', shape: [2, 4, 8, 8], config: { _class_name: 'DDIMScheduler', rescale_betas_zero_snr: true, clip_sample: true, timestep_spacing: 'trailing' }, steps: 3, guidance: 1, tol: 1e-5 },
  { what: 'DiT, batch 2, CFG 3, DPM-Solver (dpmsolver) heun order 2', model: 'dit_sampler_dpmpp_small', dtype: 'f32', shape: [2, 4, 8, 8], config: { _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'dpmsolver', solver_type: 'heun', final_sigmas_type: 'sigma_min' }, steps: 5, guidance: 3, tol: 1e-5 },
  { what: 'Wan f16 storage, batch 2, CFG 5, UniPC (Wan config)', model: 'wan_sampler_unipc_small', dtype: 'f16', shape: [2, 4, 2, 6, 8], config: WAN_UNIPC, steps: 5, guidance: 5, tol: 1e-3 }, // observed 1.5e-7; an f32 → f16 input rounding that differs by one ulp moves a value by ~5e-4
];

/** The host loop: forward read back each step, CFG and the step program in float64. */
async function hostLoop(model: DiffusionModel, c: Case, x0: Float32Array, text?: Float32Array, neg?: Float32Array, textShape?: number[], labels?: number[]) {
  const program = schedulerFromConfig(c.config, { warn: () => {} }).setTimesteps(c.steps);
  const B = c.shape[0]!;
  const n = x0.length;
  const per = n / B;
  const cfg = c.guidance > 1;
  const bb = cfg ? 2 * B : B;
  const numClasses = (model.config as { numClasses?: number }).numClasses;
  const latents = await runProgramCpu(program, x0, async (i, x) => {
    const xf = Float32Array.from(x);
    const hs = cfg ? Float32Array.from([...xf, ...xf]) : xf;
    const out = await model.forward({
      hidden_states: { data: hs, shape: [bb, ...c.shape.slice(1)] },
      timestep: new Array(bb).fill(program.timesteps[i]),
      encoder_hidden_states: text && { data: cfg ? Float32Array.from([...text, ...neg!]) : text, shape: [bb, ...textShape!.slice(1)] },
      class_labels: labels && (cfg ? [...labels, ...labels.map(() => numClasses!)] : labels),
    });
    const perOut = out.data.length / bb;
    const eps = new Float64Array(n);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < per; j++) {
        const cv = out.data[b * perOut + j]!;
        eps[b * per + j] = cfg ? out.data[(B + b) * perOut + j]! + c.guidance * (cv - out.data[(B + b) * perOut + j]!) : cv;
      }
    }
    return eps;
  });
  return { latents, timesteps: program.timesteps };
}

describe.skipIf(!hasGpu)('GPU-resident loop = host loop', () => {
  for (const c of CASES) {
    it.skipIf(c.dtype === 'f16' && !gpu?.f16)(c.what, async () => {
      const model = await loadModel(join(FIXTURES, c.model, 'model'), { gpu: gpu!, dtype: c.dtype });
      try {
        const n = c.shape.reduce((a, b) => a * b, 1);
        const x0 = randn(n, 11);
        const B = c.shape[0]!;
        const dit = model.family === 'dit';
        const L = 6;
        const D = dit ? 0 : (model.config as { textDim: number }).textDim;
        const text = dit ? undefined : randn(B * L * D, 12);
        const neg = dit ? undefined : randn(B * L * D, 13);
        const labels = dit ? Array.from({ length: B }, (_, i) => (3 * i + 1) % 10) : undefined;
        const got = await generate(model, {
          scheduler: schedulerFromConfig(c.config, { warn: () => {} }),
          num_inference_steps: c.steps,
          guidance_scale: c.guidance,
          latents: { data: x0, shape: c.shape },
          encoder_hidden_states: text && { data: text, shape: [B, L, D] },
          negative_encoder_hidden_states: neg && { data: neg, shape: [B, L, D] },
          class_labels: labels,
        });
        const want = await hostLoop(model, c, x0, text, neg, [B, L, D], labels);
        expect(got.timesteps).toEqual(want.timesteps);
        expect(got.latents.shape).toEqual(c.shape);
        const err = relError(got.latents.data, want.latents);
        const m = Math.max(...Array.from(want.latents, Math.abs));
        console.log(`${c.what}: ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(c.tol);
        // the loop moved the latents (a no-op loop cannot pass)
        expect(Math.max(...Array.from(want.latents, (w, i) => Math.abs(w - x0[i]!)))).toBeGreaterThan(0.1 * m);
      } finally {
        model.destroy();
      }
    });
  }
});

describe.skipIf(!hasGpu)('GPU-resident loop: host traffic per step', () => {
  it('per step: the timestep and the flag reset written, one 4-byte flag read; the text uploaded once', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_sampler_unipc_small', 'model'), { gpu: gpu! });
    const d = gpu!.device;
    const q = d.queue;
    const write = q.writeBuffer.bind(q);
    const create = d.createBuffer.bind(d);
    const events: string[] = [];
    try {
      const [B, L, D] = [2, 5, 32]; // L 5: the text size differs from every other upload
      const shape = [B, 4, 2, 6, 8];
      const text = randn(B * L * D, 1);
      q.writeBuffer = ((buf: GPUBuffer, off: number, data: BufferSource, ...rest: number[]) => {
        events.push(`write ${(data as ArrayBufferView).byteLength ?? (data as ArrayBuffer).byteLength}`);
        return write(buf, off, data, ...rest);
      }) as typeof q.writeBuffer;
      d.createBuffer = ((desc: GPUBufferDescriptor) => {
        const b = create(desc);
        const map = b.mapAsync.bind(b);
        b.mapAsync = (mode: number, offset?: number, size?: number) => {
          events.push(`map ${size ?? b.size}`);
          return map(mode, offset, size);
        };
        return b;
      }) as typeof d.createBuffer;
      await generate(model, {
        scheduler: schedulerFromConfig(WAN_UNIPC, { warn: () => {} }),
        num_inference_steps: 4,
        guidance_scale: 5,
        latents: { data: randn(shape.reduce((a, b) => a * b, 1), 2), shape },
        encoder_hidden_states: { data: text, shape: [B, L, D] },
        negative_encoder_hidden_states: { data: randn(B * L * D, 3), shape: [B, L, D] },
        onStep: (s) => events.push(`step ${s}`),
      });
    } finally {
      q.writeBuffer = write;
      d.createBuffer = create;
      model.destroy();
    }
    // the text ([cond; uncond], 2B × L × D f32) is written once, before step 1
    const textWrite = `write ${2 * 2 * 5 * 32 * 4}`;
    expect(events.filter((e) => e === textWrite)).toHaveLength(1);
    expect(events.indexOf(textWrite)).toBeLessThan(events.indexOf('step 1'));
    // between two steps: the timestep (2B f32) and the flag reset, and one 4-byte read
    for (let s = 1; s < 4; s++) {
      const seg = events.slice(events.indexOf(`step ${s}`) + 1, events.indexOf(`step ${s + 1}`));
      expect(seg.filter((e) => e.startsWith('map'))).toEqual(['map 4']);
      expect(seg.filter((e) => e.startsWith('write')).sort()).toEqual(['write 16', 'write 4']);
    }
  });
});

describe('GPU-resident loop: refusals before any GPU work', () => {
  it('a sampler state above the adapter binding limit is a LimitError with the numbers', async () => {
    // a stand-in model: generate() must refuse from the config, shapes and limits alone
    const model = {
      family: 'dit',
      dtype: 'f32',
      config: { family: 'dit', inChannels: 4, outChannels: 8, numClasses: 10 },
      gpu: { limits: { maxStorageBufferBindingSize: 64 << 10, maxBufferSize: 1 << 30 } },
      resident: () => {
        throw new Error('GPU work started');
      },
    } as unknown as DiffusionModel;
    const shape = [1, 4, 64, 64]; // 16384 values: 64 KiB per f32 slot
    const err = await generate(model, {
      scheduler: schedulerFromConfig({ _class_name: 'UniPCMultistepScheduler', solver_order: 3 }),
      num_inference_steps: 4,
      latents: { data: new Float32Array(16384), shape },
      class_labels: [1],
    }).catch((e) => e);
    expect(err).toBeInstanceOf(LimitError);
    expect(err.message).toBe("the sampler state of UniPCMultistepScheduler (7 f32 slots of latents [1,4,64,64]: the guided model output, the sample, the last sample / earlier model outputs) needs 448.0 KiB in one binding, above the adapter's maxStorageBufferBindingSize of 64.0 KiB: use fewer frames or a smaller resolution, or a lower solver_order");
  });
});
