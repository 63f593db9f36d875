// Mutation round 4 (session 17) on checkConditioningHeader (src/cli/model-inputs.ts, 2f82962), called in-process on
// header maps (no file is read, no CLI spawned): every refusal it owns, and the files it must let through. Each
// case pins a branch a mutant removed or widened while generate-inputs-early.test.ts (CLI spawns) still passed.
import { describe, expect, it } from 'vitest';
import { checkConditioningHeader } from '../../src/cli/model-inputs.js';
import { UsageError, type Parsed } from '../../src/cli/args.js';
import type { InputHeader } from '../../src/io/inputs.js';
import { InputError } from '../../src/model/model.js';
import { thrown } from '../helpers/errors.js';

const F = 'in.safetensors';
const h = (shape: number[], dtype = 'F32'): InputHeader => ({ dtype, shape }) as InputHeader;
const header = (t: Record<string, InputHeader>) => new Map(Object.entries(t));
const p = (flags: Record<string, unknown> = {}): Parsed => ({ _: [], inputs: F, ...flags }) as Parsed;
const text = h([1, 8, 64]);
const latents = h([1, 16, 3, 4, 4]);

describe('checkConditioningHeader: what passes', () => {
  it('--seed and no latents in the file: the latents are not required', () => {
    expect(() => checkConditioningHeader(p({ seed: 1 }), 'wan', header({ encoder_hidden_states: text }), false)).not.toThrow();
  });

  it('no guidance: no negative text required', () => {
    expect(() => checkConditioningHeader(p(), 'wan', header({ encoder_hidden_states: text, latents }), false)).not.toThrow();
  });
});

describe('checkConditioningHeader: each refusal', () => {
  it('--seed beside latents in the file: UsageError naming both', () => {
    const e = thrown(() => checkConditioningHeader(p({ seed: 7 }), 'wan', header({ encoder_hidden_states: text, latents }), false), UsageError);
    expect(e.message).toBe(`--seed 7 and the tensor "latents" in ${F} both give the initial noise: drop --seed to start from the file's latents, or remove "latents" from the file to start from seeded noise`);
  });

  it('--prompt beside text in the file: UsageError', () => {
    const e = thrown(() => checkConditioningHeader(p(), 'wan', header({ prompt_embeds: text, latents }), false, true), UsageError);
    expect(e.message).toMatch(/^--prompt and the tensor "prompt_embeds" in in\.safetensors both give the text/);
  });

  it('latents of the wrong rank: InputError naming the layout', () => {
    const e = thrown(() => checkConditioningHeader(p(), 'wan', header({ encoder_hidden_states: text, latents: h([1, 16, 4, 4]) }), false), InputError);
    expect(e.message).toBe(`${F}: tensor "latents" must be [B, C, F, H, W] (5 dims) for a wan model, found [1,16,4,4]`);
  });

  it('an integer negative text: InputError naming it', () => {
    const e = thrown(() => checkConditioningHeader(p(), 'wan', header({ encoder_hidden_states: text, negative_encoder_hidden_states: h([1, 8, 64], 'I64'), latents }), true), InputError);
    expect(e.message).toBe(`${F}: tensor "negative_encoder_hidden_states" must be a float tensor (F32/F16/BF16/F64), found I64`);
  });

  it('DiT: float class_labels refused; no file and no --class-label refused', () => {
    const e = thrown(() => checkConditioningHeader(p(), 'dit', header({ class_labels: h([1]), latents: h([1, 4, 8, 8]) }), false), InputError);
    expect(e.message).toMatch(/^in\.safetensors: tensor "class_labels" /);
    const none = thrown(() => checkConditioningHeader({ _: [], seed: 1 } as Parsed, 'dit', new Map(), false), UsageError);
    expect(none.message).toBe('DiT needs class ids: --inputs with class_labels, or --class-label N');
    expect(() => checkConditioningHeader({ _: [], seed: 1, 'class-label': 3 } as Parsed, 'dit', new Map(), false)).not.toThrow();
  });
});
