// generate() refuses the other family's conditioning (class_labels for a Wan/Latte model, the text
// embeddings for a DiT) as forward() refuses that input, instead of ignoring it; stand-in models
// (no weights, no device): any GPU work fails the test.
import { describe, expect, it } from 'vitest';
import { InputError, type DiffusionModel } from '../../src/model/model.js';
import { generate } from '../../src/sampler/generate.js';
import { schedulerFromConfig } from '../../src/sampler/config.js';

const OPTIONS = 'scheduler, scheduler_config, num_inference_steps, guidance_scale, shift, latents, seed, shape';
const stand = (config: object): DiffusionModel => {
  const m = {
    family: (config as { family: string }).family,
    dtype: 'f32',
    config,
    gpu: { limits: { maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 1 << 30 } },
    resident: () => {
      throw new Error('GPU work started');
    },
    exclusive: (f: (held: unknown) => Promise<unknown>) => f(m),
  };
  return m as unknown as DiffusionModel;
};
const dit = stand({ family: 'dit', inChannels: 4, outChannels: 8, numClasses: 10 });
const wan = stand({ family: 'wan', inChannels: 4, outChannels: 4, textDim: 24, patch: [1, 2, 2] });
const latte = stand({ family: 'latte', inChannels: 4, outChannels: 8, captionChannels: 24, patch: 2, videoLength: 2 });
const f32 = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });
const base = { scheduler: schedulerFromConfig({ _class_name: 'DDIMScheduler' }), num_inference_steps: 2 };
const text = { shape: [1, 4, 2, 4, 4], encoder_hidden_states: f32([1, 6, 24]) };
const labels = { shape: [1, 4, 4, 4], class_labels: [1] };
const outcome = (m: DiffusionModel, o: object): Promise<Error> => generate(m, { ...base, ...o }).then(() => new Error('accepted'), (e: Error) => e);

describe("generate() refuses the other family's conditioning, naming the option and the family", () => {
  it('class_labels on a Wan or Latte model (any value), as forward() refuses it', async () => {
    for (const [m, family] of [[wan, 'wan'], [latte, 'latte']] as const) {
      for (const class_labels of [[1], 'abc', new Int32Array([1])]) {
        const e = await outcome(m, { ...text, class_labels });
        expect(e, `${family} ${String(class_labels)}`).toBeInstanceOf(InputError);
        expect(e.message).toBe(`class_labels: not an option of generate for a ${family} model but of generate for a dit model (options: ${OPTIONS}, encoder_hidden_states, negative_encoder_hidden_states, prompt_embeds, negative_prompt_embeds, onStep, signal, onWarning, onStepProfile, onBlock)`);
      }
    }
    // an option given as undefined is an absent one (as in forward()); without it the call reaches the GPU work
    expect((await outcome(wan, { ...text, class_labels: undefined })).message).toBe('GPU work started');
  });

  it('text embeddings (either name, positive or negative) on a DiT model', async () => {
    for (const k of ['encoder_hidden_states', 'negative_encoder_hidden_states', 'prompt_embeds', 'negative_prompt_embeds']) {
      for (const guidance_scale of [1, 4]) {
        const e = await outcome(dit, { ...labels, guidance_scale, [k]: f32([1, 6, 24]) });
        expect(e, `${k} guidance ${guidance_scale}`).toBeInstanceOf(InputError);
        expect(e.message).toBe(`${k}: not an option of generate for a dit model but of generate for a wan or latte model (options: ${OPTIONS}, class_labels, onStep, signal, onWarning, onStepProfile, onBlock)`);
      }
    }
    expect((await outcome(dit, { ...labels, guidance_scale: 4 })).message).toBe('GPU work started');
  });

  it("the negative text embeddings are checked when given, guided or not (as Pipeline.generate checks them)", async () => {
    for (const guidance_scale of [1, 4]) {
      const bad = await outcome(wan, { ...text, guidance_scale, negative_encoder_hidden_states: 'abc' });
      expect(bad, `guidance ${guidance_scale}`).toBeInstanceOf(InputError);
      expect(bad.message).toBe("negative_encoder_hidden_states: expected { data: Float32Array, shape: number[] } ([B, L', 24] negative text embeddings), got \"abc\"");
      const wide = await outcome(wan, { ...text, guidance_scale, negative_prompt_embeds: f32([1, 6, 16]) });
      expect(wide.message).toBe("negative_prompt_embeds: expected [1, L', 24] (the batch and width of encoder_hidden_states [1,6,24]; any length L'), found [1,6,16]");
    }
    expect((await outcome(wan, { ...text, negative_encoder_hidden_states: f32([1, 3, 24]) })).message).toBe('GPU work started');
  });
});
