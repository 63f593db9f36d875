// Maps a safetensors inputs file onto a model's forward inputs, naming the tensor at fault.
import type { InputTensor } from '../io/inputs.js';
import type { ModelConfig } from '../model/config.js';
import { InputError, type TensorData } from '../model/model.js';

export const INPUT_NAMES: Record<ModelConfig['family'], { forward: string[]; generate: string[] }> = {
  wan: { forward: ['hidden_states', 'timestep', 'encoder_hidden_states'], generate: ['latents', 'encoder_hidden_states', 'negative_encoder_hidden_states'] },
  latte: { forward: ['hidden_states', 'timestep', 'encoder_hidden_states'], generate: ['latents', 'encoder_hidden_states', 'negative_encoder_hidden_states'] },
  dit: { forward: ['hidden_states', 'timestep', 'class_labels'], generate: ['latents', 'class_labels'] },
};

/** Rejects unknown tensor names, listing the expected ones. */
export function checkNames(file: string, inputs: Map<string, InputTensor>, allowed: string[], required: string[]): void {
  for (const name of inputs.keys()) {
    if (!allowed.includes(name)) throw new InputError(`${file}: unexpected tensor "${name}"; expected ${allowed.join(', ')}`);
  }
  for (const name of required) {
    if (!inputs.has(name)) throw new InputError(`${file}: missing tensor "${name}" (expected ${allowed.join(', ')})`);
  }
}

export function floatInput(file: string, inputs: Map<string, InputTensor>, name: string): TensorData {
  const t = inputs.get(name)!;
  if (!t.f32) throw new InputError(`${file}: tensor "${name}" must be a float tensor (F32/F16/BF16), found ${t.dtype}`);
  return { data: t.f32, shape: t.shape };
}

export function intInput(file: string, inputs: Map<string, InputTensor>, name: string): number[] {
  const t = inputs.get(name)!;
  if (!t.i64) throw new InputError(`${file}: tensor "${name}" must be an integer tensor (I64), found ${t.dtype}`);
  if (t.shape.length !== 1) throw new InputError(`${file}: tensor "${name}" must be 1-D [B], found [${t.shape.join(',')}]`);
  return Array.from(t.i64, (v) => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(`${file}: "${name}" value ${v} is out of range`);
    return Number(v);
  });
}
