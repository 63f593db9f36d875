// The text's cross-attention K/V are computed once per generation (issue 13): the model records
// them, with the text embedder, into a prepare plan that runs once, and every step's forward only
// reads them. Numerics are the golden cases' (wan_small, latte_small, wan_sampler_small); here:
// which dispatches sit in which plan, how often each runs in a generation, and that a new text
// (forward, planFor) re-runs the prepare plan.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadModel } from '../../src/model/model.js';
import { generate } from '../../src/sampler/generate.js';
import { schedulerFromConfig } from '../../src/sampler/config.js';
import { Plan } from '../../src/gpu/plan.js';
import { readTensor } from '../../src/gpu/tensor.js';
import { randn } from '../../src/random.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES, fixtureInputs } from '../helpers/golden.js';

const KV = /\.attn2\.(to_k|to_v|norm_k)$/;

describe.skipIf(!hasGpu)('cross-attention K/V: once per generation', () => {
  for (const [name, prefix, layers, kv] of [['wan_small', 'blocks', 2, ['attn2.to_k', 'attn2.norm_k', 'attn2.to_v']], ['latte_small', 'transformer_blocks', 2, ['attn2.to_k', 'attn2.to_v']]] as const) {
    it(`${name}: the prepare plan holds the text embedder and every block's ${kv.join('/')}; the step plan none, and its attn2 reads them`, async () => {
      const model = await loadModel(join(FIXTURES, name, 'model'), { gpu: gpu! });
      try {
        const { plan, prepare } = model.resident(await fixtureInputs(name));
        const n = model.config.layers;
        expect(n).toBe(layers);
        const want: string[] = [];
        for (let i = 0; i < n; i++) for (const l of kv) want.push(`${prefix}.${i}.${l}`);
        expect(prepare.dispatches.map((d) => d.layer).filter((l) => KV.test(l))).toEqual(want);
        expect(prepare.dispatches.filter((d) => !KV.test(d.layer)).every((d) => /^(condition_embedder\.text_embedder|caption_projection)\./.test(d.layer))).toBe(true);
        expect(plan.dispatches.filter((d) => KV.test(d.layer) || /text_embedder|caption_projection/.test(d.layer))).toEqual([]);
        // each block's cross-attention binds the K/V buffers its prepare dispatches wrote
        for (let i = 0; i < n; i++) {
          const k = prepare.dispatches.find((d) => d.layer === `${prefix}.${i}.${kv[kv.length - 2]}`)!.output!;
          const v = prepare.dispatches.find((d) => d.layer === `${prefix}.${i}.attn2.to_v`)!.output!;
          expect([k.label, v.label]).toEqual([`${prefix}.${i}.attn2.k`, `${prefix}.${i}.attn2.v`]);
          expect(plan.dispatches.filter((d) => d.layer === `${prefix}.${i}.attn2`)).toHaveLength(1);
        }
      } finally {
        model.destroy();
      }
    });
  }

  it('a 4-step CFG generation runs the prepare plan once and never encodes it in a step; the K/V GEMMs run once each', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_sampler_unipc_small', 'model'), { gpu: gpu! });
    const run = Plan.prototype.run;
    const encode = Plan.prototype.encode;
    const submitted: Plan[] = []; // every plan run or encoded into a step's command buffer
    Plan.prototype.run = function (this: Plan, where?: string) {
      submitted.push(this);
      return run.call(this, where);
    };
    Plan.prototype.encode = function (this: Plan, enc: GPUCommandEncoder, from?: number, to?: number) {
      if (from === undefined) submitted.push(this); // whole-plan encodes (the forward); the sampler encodes ranges
      return encode.call(this, enc, from, to);
    };
    try {
      const [B, L, D] = [1, 5, 32];
      const shape = [B, 4, 2, 6, 8];
      const steps = 4;
      await generate(model, {
        scheduler: schedulerFromConfig({ _class_name: 'UniPCMultistepScheduler', prediction_type: 'flow_prediction', use_flow_sigmas: true, flow_shift: 3 }, { warn: () => {} }),
        num_inference_steps: steps,
        guidance_scale: 5,
        latents: { data: randn(shape.reduce((a, b) => a * b, 1), 2), shape },
        encoder_hidden_states: { data: randn(B * L * D, 1), shape: [B, L, D] },
        negative_encoder_hidden_states: { data: randn(B * L * D, 3), shape: [B, L, D] },
      });
      const kvGemms = (p: Plan) => p.dispatches.filter((d) => /\.attn2\.to_[kv]$/.test(d.layer)).length;
      const prepares = submitted.filter((p) => kvGemms(p) > 0);
      const forwards = submitted.filter((p) => p.dispatches.some((d) => /\.attn2$/.test(d.layer)));
      expect(prepares).toHaveLength(1); // once per generation
      expect(kvGemms(prepares[0]!)).toBe(2 * model.config.layers);
      expect(forwards).toHaveLength(steps); // every step's forward, none with a K/V GEMM
      expect(new Set(forwards).size).toBe(1);
      expect(kvGemms(forwards[0]!)).toBe(0);
    } finally {
      Plan.prototype.run = run;
      Plan.prototype.encode = encode;
      model.destroy();
    }
  });

  it('forward and planFor re-run the prepare plan when the text changes', async () => {
    const model = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    try {
      const a = await fixtureInputs('wan_small');
      const e = a.encoder_hidden_states!;
      const b = { ...a, encoder_hidden_states: { data: randn(e.data.length, 7), shape: e.shape } };
      const outA = (await model.forward(a)).data;
      const outB = (await model.forward(b)).data;
      expect(outB).not.toEqual(outA);
      expect((await model.forward(a)).data).toEqual(outA); // same shape: same plans, K/V recomputed for text a
      // planFor submits the prepare plan for its inputs' text; replaying the step plan gives that forward
      const plan = model.planFor(b);
      await plan.run('test');
      expect(await readTensor(gpu!, plan.dispatches[plan.dispatches.length - 1]!.output!)).toEqual(outB);
    } finally {
      model.destroy();
    }
  });
});
