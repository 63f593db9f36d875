// The memory estimate (a dry run of the recording: src/model/forward.ts, src/gpu/memory-plan.ts) against
// what the allocator really holds, for every preset's architecture: the weights exact, a run's
// activations and workspace never under what a recorded plan holds and within 12 % of it
// (tests/hardening/limits.test.ts holds the fixtures to the same rule). The presets' real widths,
// heads and FFNs at reduced depth (at most 2 layers: every layer holds the same tensors) and at
// sizes lavapipe allocates in seconds: the preset's own latent at batch 1 and at the CFG batch of 2,
// and one larger where the 128 MiB binding makes the recording split the FFN into token chunks
// (and, for Wan, record item by item), in f32 and f16. A preset whose weights this adapter cannot hold
// (wan-14b on lavapipe's 128 MiB bindings) is refused before any weight is made, naming the weight.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Gpu } from '../../src/gpu/device.js';
import { parseConfig } from '../../src/model/config.js';
import { bindingLimit, estimateMemory, estimateWeights, LimitError } from '../../src/model/memory.js';
import { fmtBytes } from '../../src/gpu/tensor.js';
import { loadRandomModel, PRESETS } from '../../src/model/presets.js';
import { DiffusionModel, type ForwardInputs } from '../../src/model/model.js';
import { allocateWeights, expectedKeys } from '../../src/model/weights.js';
import { Allocator } from '../../src/gpu/tensor.js';
import { randn } from '../../src/random.js';
import { dtypes, gpu, hasGpu } from '../helpers/gpu.js';

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Per preset: latents beyond the preset's own [B=1 and 2], chosen to pass lavapipe's 128 MiB binding in some tensor. */
const LARGER: Record<string, { latent: number[]; splits: string }> = {
  // 4096 tokens: ffn_hidden [2,4096,4608] is 144 MiB in f32
  'dit-xl-2': { latent: [2, 4, 128, 128], splits: 'ffn_hidden_chunk' },
  // 12480 tokens per item: x [2,12480,1536] is 146 MiB in f32 (item by item), ffn_hidden 853 MiB (chunks)
  'wan-1.3b': { latent: [2, 16, 8, 60, 104], splits: 'ffn_hidden_chunk' },
};

/**
 * `gpu` with its device wrapped: each bind group the recording makes is noted with the largest byte range it
 * binds (what Dawn checks against maxStorageBufferBindingSize), so that the test reads the real bindings,
 * not the plan's account of them (Dispatch.bound, which said a tensor's size while the bind group held the
 * whole shared buffer "shared.0" it lives in: 146 MiB on the larger Wan latent).
 */
function watched(): { gpu: Gpu; groups: { label: string; bytes: number }[] } {
  const groups: { label: string; bytes: number }[] = [];
  const real = gpu!.device;
  const device = new Proxy(real, {
    get(t, k) {
      if (k === 'createBindGroup')
        return (d: GPUBindGroupDescriptor) => {
          let bytes = 0;
          for (const e of d.entries) {
            const r = e.resource as GPUBufferBinding;
            if (r.buffer) bytes = Math.max(bytes, r.size ?? r.buffer.size - (r.offset ?? 0));
          }
          groups.push({ label: d.label ?? '', bytes });
          return t.createBindGroup(d);
        };
      const v = Reflect.get(t, k, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  return { gpu: Object.assign(Object.create(gpu!) as Gpu, { device }), groups };
}

// a WebGPU validation error outside every error scope (a bind group past the binding limit) is only printed
// by the device's handler (src/gpu/device.ts): here it fails the test
let errors: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  errors = vi.spyOn(console, 'error');
});
afterEach(() => {
  const uncaptured = errors.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('uncaptured WebGPU error'));
  errors.mockRestore();
  expect(uncaptured).toEqual([]);
});

describe.skipIf(!hasGpu)('the estimate against the allocator, every preset (≤ 2 layers)', () => {
  for (const [name, preset] of Object.entries(PRESETS)) {
    for (const dtype of dtypes) {
      it(`${name} ${dtype}`, async () => {
        const config = { ...preset.config, num_layers: Math.min(2, preset.config['num_layers'] as number) };
        const c = parseConfig(config);
        const w = estimateWeights(c, dtype);
        if (w.largest > bindingLimit(gpu!.limits).bytes) {
          // a weight no binding of this adapter holds (wan-14b's time projection on lavapipe): refused before any is made
          await expect(loadRandomModel(config, { gpu: gpu!, dtype, seed: 0, name })).rejects.toThrow(new LimitError(`the model's largest ${w.largestName} is ${fmtBytes(w.largest)} in ${dtype}, above the adapter's per-buffer limit of ${fmtBytes(bindingLimit(gpu!.limits).bytes)}: a smaller model${dtype === 'f32' && gpu!.f16 ? ` (in f16 it is still ${fmtBytes(estimateWeights(c, 'f16').largest)})` : ''}`));
          return;
        }
        // the weights as loadRandomModel allocates them, not filled: their values play no part in what a plan
        // holds, and filling them was most of this file's GPU work (~1.6 CPU s for each large preset on lavapipe)
        const { gpu: g, groups } = watched();
        const alloc = new Allocator(g);
        const model = new DiffusionModel(name, c, g, allocateWeights(alloc, expectedKeys(c), dtype), alloc, false);
        try {
          const { frames, height, width } = preset.latent;
          const at = (B: number) => (c.family === 'dit' ? [B, c.inChannels, height, width] : [B, c.inChannels, frames, height, width]);
          const shapes = [at(1), at(2), ...(LARGER[name] ? [LARGER[name].latent] : [])];
          for (const shape of shapes) {
            const B = shape[0]!;
            const textShape = c.family === 'dit' ? undefined : [B, preset.textLen ?? 8, c.family === 'wan' ? c.textDim : c.captionChannels];
            const inputs: ForwardInputs = { hidden_states: { data: randn(numel(shape), 1), shape }, timestep: new Array(B).fill(500) };
            if (textShape) inputs.encoder_hidden_states = { data: randn(numel(textShape), 2), shape: textShape };
            else inputs.class_labels = new Array(B).fill(1);
            const est = estimateMemory(c, shape, textShape, dtype, gpu!.limits);
            expect(est.weights, name).toBe(model.weights.bytes);
            const w0 = model.gpuBytes;
            groups.length = 0;
            model.planFor(inputs);
            const actual = model.gpuBytes - w0;
            const what = `${name} ${dtype} [${shape}]`;
            // every bind group of the recorded plans (prepare and step) within the adapter's binding limit, and
            // within the largest binding the estimate saw (the check that refuses a run covers each real binding)
            const largest = groups.reduce((a, x) => (x.bytes > a.bytes ? x : a), { label: '(none)', bytes: 0 });
            expect(groups.length, what).toBeGreaterThan(0);
            expect(largest.bytes, `${what}: ${largest.label}`).toBeLessThanOrEqual(gpu!.limits.maxStorageBufferBindingSize);
            expect(largest.bytes, `${what}: ${largest.label}`).toBeLessThanOrEqual(est.plan.largestBinding.bytes);
            expect(est.activations + est.workspace, what).toBeGreaterThanOrEqual(actual);
            expect(est.activations + est.workspace, what).toBeLessThanOrEqual(actual * 1.12);
            if (shape === LARGER[name]?.latent && dtype === 'f32') expect(est.plan.activations.some((a) => a.label === LARGER[name]!.splits), `${what}: the FFN in token chunks`).toBe(true);
            await model.resetPlans();
          }
        } finally {
          model.dispose();
        }
      }, 300_000);
    }
  }
});
