// DiffusionModel.forward refuses an input its family does not take in the shared options wording
// (checkOptionNames: "did you mean", the accepted names), before any GPU work; an input given as
// undefined counts as absent.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { InputError, loadModel, type ForwardInputs } from '../../src/model/model.js';
import { checkOptionNames } from '../../src/model/options.js';
import { randn } from '../../src/random.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { thrown } from '../helpers/errors.js';

const WAN = join(FIXTURES, 'wan_small', 'model');
const DIT = join(FIXTURES, 'dit_small', 'model');
const WAN_INPUTS = 'hidden_states, timestep, encoder_hidden_states';

describe('checkOptionNames names its keys as the caller calls them', () => {
  it('options by default, inputs for forward', () => {
    expect(thrown(() => checkOptionNames({ timesteps: 1 }, ['timestep'], 'f', '{}'), InputError).message).toBe('timesteps: not an option of f; did you mean timestep? (options: timestep)');
    expect(thrown(() => checkOptionNames({ timesteps: 1 }, ['timestep'], 'f', '{}', {}, 'input'), InputError).message).toBe('timesteps: not an input of f; did you mean timestep? (inputs: timestep)');
    expect(thrown(() => checkOptionNames([], ['timestep'], 'f', '{ timestep }', {}, 'input'), InputError).message).toBe('f: expected an inputs object such as { timestep }, got an array');
  });
});

describe.skipIf(!hasGpu)('forward: inputs the family does not take', () => {
  const wanInputs = (): ForwardInputs => ({
    hidden_states: { data: randn(4 * 2 * 6 * 8, 1), shape: [1, 4, 2, 6, 8] },
    timestep: [500],
    encoder_hidden_states: { data: randn(6 * 24, 2), shape: [1, 6, 24] },
  });
  const refusal = async (p: Promise<unknown>) => {
    const e = await p.then(() => new Error('accepted'), (x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  };

  it('a misspelt input is named with the one meant; another family\'s input with the accepted names', async () => {
    const m = await loadModel(WAN, { gpu: gpu! });
    const d = await loadModel(DIT, { gpu: gpu! });
    try {
      const { encoder_hidden_states: ehs, ...x } = wanInputs();
      expect(await refusal(m.forward({ ...x, encoder_hidden_state: ehs } as ForwardInputs))).toBe(`encoder_hidden_state: not an input of forward for a wan model; did you mean encoder_hidden_states? (inputs: ${WAN_INPUTS})`);
      expect(await refusal(m.forward({ ...wanInputs(), class_labels: [1] }))).toBe(`class_labels: not an input of forward for a wan model (inputs: ${WAN_INPUTS})`);
      expect(await refusal(d.forward({ hidden_states: { data: new Float32Array(256), shape: [1, 4, 8, 8] }, timestep: [1], labels: [3] } as ForwardInputs))).toBe('labels: not an input of forward for a dit model; did you mean class_labels? (inputs: hidden_states, timestep, class_labels)');
      // an input given as undefined is an absent one, as before
      await expect(m.forward({ ...wanInputs(), class_labels: undefined })).resolves.toBeDefined();
    } finally {
      m.dispose();
      d.dispose();
    }
  }, 120_000);
});
