// Pipeline.generate's declared result follows output_type, so the README's
// `const { video } = await pipe.generate(...)` then `videoToFrames(video)` compiles under strict tsc.
// The checks are types: `npx tsc --noEmit -p .` fails on a wrong one (expectTypeOf does nothing at run time).
import { describe, expectTypeOf, it } from 'vitest';
import type { Pipeline, PipelineGenerateOptions, PipelineOutput } from '../../src/pipeline/pipeline.js';
import type { TensorData } from '../../src/api.js';
import { videoToFrames } from '../../src/api.js';

type Gen = Pipeline['generate'];
declare const pipe: Pipeline;
declare const embeds: TensorData;

describe('Pipeline.generate result type', () => {
  it('default and "np" calls have video (DiT, class_labels: images); "latent" calls have neither; an unknown output_type gets the general output', () => {
    const call = () => pipe.generate({ prompt_embeds: embeds, seed: 0, height: 480, width: 832, num_frames: 81 });
    expectTypeOf<Awaited<ReturnType<typeof call>>['video']>().toEqualTypeOf<TensorData>();
    const np = () => pipe.generate({ prompt: 'a fox', seed: 0, output_type: 'np' });
    expectTypeOf<Awaited<ReturnType<typeof np>>['video']>().toEqualTypeOf<TensorData>();
    const latent = () => pipe.generate({ prompt: 'a fox', seed: 0, output_type: 'latent' });
    expectTypeOf<Awaited<ReturnType<typeof latent>>['video']>().toEqualTypeOf<undefined>();
    expectTypeOf<Awaited<ReturnType<typeof latent>>['latents']>().toEqualTypeOf<TensorData>();
    const dit = () => pipe.generate({ class_labels: [207], seed: 0 });
    expectTypeOf<Awaited<ReturnType<typeof dit>>['images']>().toEqualTypeOf<TensorData>();
    expectTypeOf<Awaited<ReturnType<typeof dit>>['video']>().toEqualTypeOf<undefined>();
    const ditLatent = () => pipe.generate({ class_labels: [207], seed: 0, output_type: 'latent' });
    expectTypeOf<Awaited<ReturnType<typeof ditLatent>>['images']>().toEqualTypeOf<undefined>();
    const any = (o: PipelineGenerateOptions) => pipe.generate(o);
    expectTypeOf<Awaited<ReturnType<typeof any>>>().toEqualTypeOf<PipelineOutput>();
    expectTypeOf<Gen>().toBeFunction();
    // the README's use: destructure video, hand it to videoToFrames (strict: no undefined)
    const readme = async () => {
      const { video } = await pipe.generate({ prompt: 'a red fox in the snow', seed: 0, height: 480, width: 832, num_frames: 81 });
      return videoToFrames(video);
    };
    expectTypeOf(readme).returns.resolves.toEqualTypeOf<ReturnType<typeof videoToFrames>>();
    const latentVideo = async () => {
      const { video } = await pipe.generate({ prompt: 'a fox', seed: 0, output_type: 'latent' });
      // @ts-expect-error a latent-only call has no video to hand on
      return videoToFrames(video);
    };
    expectTypeOf(latentVideo).toBeFunction();
  });
});
