// Issue 13 item 6: activation buffers shared by liveness over the recorded plan, and the FFN over
// token chunks. Sharing must never change a result: the small golden models run with every
// activation in a buffer of its own and with the shared layout give identical outputs, and both
// match the real libraries' goldens. The chunked FFN (a tiny forced chunk) matches the unchunked one.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readInputs } from '../../src/io/inputs.js';
import { loadModel, type DiffusionModel } from '../../src/model/model.js';
import { relError } from '../helpers/compare.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES, fixtureInputs } from '../helpers/golden.js';
import { goldenF32Tol, TOL } from '../tolerances.js';

async function expected(name: string): Promise<Float32Array> {
  const key = JSON.parse(readFileSync(join(FIXTURES, name, 'case.json'), 'utf8')).cli.output_key as string;
  return (await readInputs(join(FIXTURES, name, 'expected.safetensors'))).get(key)!.f32!;
}


const caseTol = (name: string): number => JSON.parse(readFileSync(join(FIXTURES, name, 'case.json'), 'utf8')).tolerance.max as number;

describe.skipIf(!hasGpu)('activation buffers shared by liveness', () => {
  for (const name of ['wan_small', 'dit_small', 'latte_small']) {
    it(`${name}: shared and unshared activations give identical outputs, both within the golden tolerance`, async () => {
      const model: DiffusionModel = await loadModel(join(FIXTURES, name, 'model'), { gpu: gpu!, dtype: 'f32' });
      try {
        const inputs = await fixtureInputs(name);
        const shared = await model.forward(inputs);
        const mem = model.memoryPlanFor(inputs)!;
        // sharing happened: fewer bytes than one buffer per activation, and never below the live set
        expect(mem.scratchBytes).toBeLessThan(mem.scratchNoReuseBytes);
        expect(mem.scratchBytes).toBeGreaterThanOrEqual(mem.scratchMaxLive);
        expect(mem.slotBytes.length).toBeGreaterThan(0);
        model.memory = { reuse: false };
        model.resetPlans();
        const own = await model.forward(inputs);
        expect(model.memoryPlanFor(inputs)).toBeUndefined();
        expect(Array.from(own.data)).toEqual(Array.from(shared.data));
        const exp = await expected(name);
        expect(relError(shared.data, exp)).toBeLessThan(goldenF32Tol(caseTol(name)));
      } finally {
        model.destroy();
      }
    });
  }

  it('wan_small: the FFN over forced 4-row chunks (8 in f16) matches the unchunked FFN (f32 and f16)', async () => {
    const name = 'wan_small';
    const inputs = await fixtureInputs(name);
    for (const dtype of ['f32', 'f16'] as const) {
      if (dtype === 'f16' && !gpu!.f16) continue;
      const model = await loadModel(join(FIXTURES, name, 'model'), { gpu: gpu!, dtype });
      try {
        const whole = await model.forward(inputs);
        const base = model.planFor(inputs).dispatches.filter((d) => d.layer.endsWith('ffn.net.2')).length;
        model.memory = { ffnChunkRows: 4 };
        model.resetPlans();
        const chunked = await model.forward(inputs);
        const plan = model.planFor(inputs);
        // more FFN dispatches (one per chunk), each binding a 4-row hidden activation
        expect(plan.dispatches.filter((d) => d.layer.endsWith('ffn.net.2')).length).toBeGreaterThan(base);
        const hidden = plan.dispatches.find((d) => d.layer.endsWith('ffn.net.0.proj'))!;
        // 4 rows, rounded up to whole 256-byte binding offsets: 4 rows of 48 in f32 (768 B), 8 in f16
        expect(hidden.shapes).toMatch(dtype === 'f32' ? /^x\[4,48\]/ : /^x\[8,48\]/);
        // the same sums per row; only the GEMM strategy (picked by row count) may round differently
        expect(relError(chunked.data, whole.data)).toBeLessThan(TOL.gemm![dtype].rtol);
        expect(relError(chunked.data, await expected(name))).toBeLessThan(dtype === 'f32' ? goldenF32Tol(caseTol(name)) : caseTol(name));
      } finally {
        model.destroy();
      }
    }
  });

  it('recorded plans per shape are evicted beyond maxPlans (least recently used first)', async () => {
    const model = await loadModel(join(FIXTURES, 'dit_small', 'model'), { gpu: gpu!, dtype: 'f32' });
    try {
      model.maxPlans = 1;
      const a = await fixtureInputs('dit_small');
      const [B, C, H, W] = a.hidden_states.shape as [number, number, number, number];
      const b = { ...a, hidden_states: { data: new Float32Array(B * C * H * (W + 2)), shape: [B, C, H, W + 2] } };
      await model.forward(a);
      const held1 = model.gpuBytes;
      await model.forward(b);
      // one plan held: bytes of the weights + the second shape's plan, not both
      expect(model.gpuBytes).toBeLessThan(held1 + (held1 - model.weights.bytes));
      const again = await model.forward(a);
      expect(relError(again.data, await expected('dit_small'))).toBeLessThan(goldenF32Tol(caseTol('dit_small')));
    } finally {
      model.destroy();
    }
  });
});

describe.skipIf(!hasGpu)('Wan item by item', () => {
  it('wan_sampler_unipc_small, batch 2: the token-wise layers item by item match the whole batch (f32)', async () => {
    const name = 'wan_sampler_unipc_small';
    const model = await loadModel(join(FIXTURES, name, 'model'), { gpu: gpu!, dtype: 'f32' });
    try {
      const m = await readInputs(join(FIXTURES, name, 'inputs.safetensors'));
      const lat = m.get('latents')!;
      const txt = m.get('encoder_hidden_states') ?? m.get('prompt_embeds')!;
      const two = (d: Float32Array) => Float32Array.from([...d, ...d.map((v) => -0.5 * v)]);
      const inputs = {
        hidden_states: { data: two(lat.f32!), shape: [2, ...lat.shape.slice(1)] },
        timestep: [700, 300],
        encoder_hidden_states: { data: two(txt.f32!), shape: [2, ...txt.shape.slice(1)] },
      };
      model.memory = { itemwise: false };
      const whole = await model.forward(inputs);
      model.memory = { itemwise: true };
      model.resetPlans();
      const items = await model.forward(inputs);
      const plan = model.planFor(inputs);
      // every block runs once per item: twice the attention dispatches of the whole batch
      expect(plan.dispatches.filter((d) => d.layer === 'blocks.0.attn1').length).toBe(2);
      expect(relError(items.data, whole.data)).toBeLessThan(TOL.gemm!.f32.rtol);
    } finally {
      model.destroy();
    }
  });
});
