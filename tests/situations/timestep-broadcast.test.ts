// One timestep for a whole batch: diffusers' WanTransformer3DModel and DiTTransformer2DModel take a timestep of
// shape [1] with batch 2 (their time embedding broadcasts over the batch), so tessera forward does too, and gives
// what diffusers gives in float64 (tests/fixtures/situations/make_cases.py: wan_fwd_b2_t1, dit_fwd_b2_t1, through
// `tessera forward`). LatteTransformer3DModel fails on it in diffusers (its adaLN-single reshapes the one row for
// the batch), as does a scalar everywhere: refused, saying so. Measured when written: Wan 2.9e-7, DiT 1.1e-6
// (held to 1e-4 like the goldens).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { InputError, loadModel, type DiffusionModel, type ForwardInputs } from '../../src/model/model.js';
import { fixtureInputs, FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { describeSituations } from './run-case.js';

describeSituations('a 1-element timestep over a batch of 2 (tessera forward vs diffusers float64)', ['wan_fwd_b2_t1', 'dit_fwd_b2_t1']);

/** `inputs` at batch 2: every batched tensor twice. */
function twice(fi: ForwardInputs): ForwardInputs {
  const dup = (t: { data: Float32Array; shape: number[] }) => ({ data: Float32Array.from([...t.data, ...t.data]), shape: [2 * t.shape[0]!, ...t.shape.slice(1)] });
  return { ...fi, hidden_states: dup(fi.hidden_states), ...(fi.encoder_hidden_states ? { encoder_hidden_states: dup(fi.encoder_hidden_states) } : {}) };
}

describe.skipIf(!hasGpu)('timestep lengths the forward refuses', () => {
  let wan: DiffusionModel;
  let latte: DiffusionModel;
  beforeAll(async () => {
    wan = await loadModel(join(FIXTURES, 'wan_small', 'model'), { gpu: gpu! });
    latte = await loadModel(join(FIXTURES, 'latte_small', 'model'), { gpu: gpu! });
  }, 120_000);
  afterAll(() => {
    wan?.destroy();
    latte?.destroy();
  });

  it('Latte at batch 2: one timestep is refused, naming diffusers\' Latte; two are taken', async () => {
    const fi = twice(await fixtureInputs('latte_small'));
    const e = await latte.forward({ ...fi, timestep: [500] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe("timestep: expected 2 values (one per batch item), found 1: Latte does not broadcast one timestep over the batch (diffusers' LatteTransformer3DModel fails on it)");
    await expect(latte.forward({ ...fi, timestep: 500 as never })).rejects.toThrow(new InputError('timestep: expected a list of 2 values (one per batch item; numbers or bigint), got 500', { option: 'timestep' }));
    const ok = await latte.forward({ ...fi, timestep: [500, 500] });
    expect(ok.shape[0]).toBe(2);
  });

  it('Wan at batch 2: neither 1 nor 2 values (3) is refused, naming both counts; [1] gives what [t, t] gives', async () => {
    const fi = twice(await fixtureInputs('wan_small'));
    await expect(wan.forward({ ...fi, timestep: [1, 2, 3] })).rejects.toThrow(new InputError('timestep: expected 2 values (one per batch item, or 1 for the whole batch), found 3', { option: 'timestep' }));
    await expect(wan.forward({ ...fi, timestep: 437.25 as never })).rejects.toThrow(new InputError('timestep: expected a list of 2 values (one per batch item, or 1 for the whole batch; numbers or bigint), got 437.25', { option: 'timestep' }));
    const one = await wan.forward({ ...fi, timestep: [437.25] });
    const both = await wan.forward({ ...fi, timestep: [437.25, 437.25] });
    expect(Array.from(one.data)).toEqual(Array.from(both.data));
  });
});
