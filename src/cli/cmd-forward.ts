// `tessera forward`: one forward pass of a diffusers transformer on inputs from a safetensors file.
import { readInputs } from '../io/inputs.js';
import { writeOutputAtomic } from '../io/node-write.js';
import { loadModel, InputError, type ForwardInputs } from '../model/model.js';
import type { DType } from '../gpu/tensor.js';
import type { Command } from './main.js';
import { checkNames, floatInput, INPUT_NAMES, intInput } from './model-inputs.js';

export const forwardCommand: Command = {
  spec: {
    name: 'forward',
    summary: "run one forward pass of a diffusers model folder (diffusers' output layout)",
    usage: 'tessera forward --model DIR --inputs IN.safetensors --out OUT.safetensors [--dtype f32|f16]',
    flags: {
      model: { type: 'string', arg: 'DIR', help: 'diffusers model folder (config.json + *.safetensors)', required: true },
      inputs: { type: 'string', arg: 'FILE', help: 'safetensors with hidden_states, timestep and encoder_hidden_states (Wan/Latte) or class_labels (DiT)', required: true },
      out: { type: 'string', arg: 'FILE', help: 'output safetensors (tensor "sample", F32)', required: true },
      dtype: { type: 'choice', choices: ['f32', 'f16'], help: 'storage dtype of weights and activations', default: 'f32' },
    },
  },
  async run(p) {
    const file = p.inputs as string;
    const inputs = await readInputs(file);
    const model = await loadModel(p.model as string, { dtype: p.dtype as DType });
    try {
      const names = INPUT_NAMES[model.family].forward;
      checkNames(file, inputs, names, names);
      const t = floatInput(file, inputs, 'timestep');
      if (t.shape.length !== 1) throw new InputError(`${file}: tensor "timestep" must be 1-D [B], found [${t.shape.join(',')}]`);
      const fi: ForwardInputs = { hidden_states: floatInput(file, inputs, 'hidden_states'), timestep: t.data };
      if (model.family === 'dit') fi.class_labels = intInput(file, inputs, 'class_labels');
      else fi.encoder_hidden_states = floatInput(file, inputs, 'encoder_hidden_states');
      const out = await model.forward(fi);
      for (let i = 0; i < out.data.length; i++) {
        if (!Number.isFinite(out.data[i]!)) throw new Error(`the forward pass produced a non-finite value at flat index ${i} of "sample"${model.dtype === 'f16' ? ' (f16 overflow? try --dtype f32)' : ''}`);
      }
      await writeOutputAtomic(p.out as string, [{ name: 'sample', shape: out.shape, data: out.data }]);
      console.error(`wrote ${p.out}: sample [${out.shape.join(',')}] (${model.describe()})`);
      return 0;
    } finally {
      model.destroy();
    }
  },
};
