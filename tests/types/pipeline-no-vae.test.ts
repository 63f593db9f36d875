// A pipeline loaded with { vae: false } never decodes, and its type says so: loadPipeline's overload gives a
// Pipeline<false>, whose generate() is typed PipelineLatentOutput (no video to hand to videoToFrames) and whose
// vae is undefined; any other load keeps the decoding types. A Pipeline<false> still passes where a Pipeline is
// taken (profilePipeline). The checks are types: `npx tsc --noEmit -p .` fails on a wrong one.
import { describe, expectTypeOf, it } from 'vitest';
import { loadPipeline, type Pipeline, type PipelineGenerateOptions, type PipelineLatentOutput, type PipelineLoadOptions, type PipelineVideoOutput } from '../../src/pipeline/pipeline.js';
import type { TensorData, Vae } from '../../src/index.js';
import { videoToFrames } from '../../src/api.js';
import type { profilePipeline } from '../../src/profile/pipeline.js';

declare const opts: PipelineLoadOptions;
// a decoding Wan call's options (declared: nothing here runs on a GPU)
declare const call: { prompt_embeds: TensorData; seed: number; height: number; width: number; num_frames: number };

describe('loadPipeline({ vae: false }) result type', () => {
  it('is a Pipeline<false>; other loads are Pipeline', () => {
    const noVae = () => loadPipeline('dir', { vae: false });
    expectTypeOf(noVae).returns.resolves.toEqualTypeOf<Pipeline<false>>();
    const withOthers = () => loadPipeline('dir', { vae: false, dtype: 'f16', textEncoder: false });
    expectTypeOf(withOthers).returns.resolves.toEqualTypeOf<Pipeline<false>>();
    const plain = () => loadPipeline('dir');
    expectTypeOf(plain).returns.resolves.toEqualTypeOf<Pipeline>();
    const vaeTrue = () => loadPipeline('dir', { vae: true });
    expectTypeOf(vaeTrue).returns.resolves.toEqualTypeOf<Pipeline>();
    // options whose vae is not the literal false: the decoding type (as before)
    const given = () => loadPipeline('dir', opts);
    expectTypeOf(given).returns.resolves.toEqualTypeOf<Pipeline>();
  });

  it('its generate() has latents and no video, whatever the call; its vae is undefined', () => {
    const run = async () => {
      const pipe = await loadPipeline('dir', { vae: false });
      return pipe.generate(call);
    };
    expectTypeOf(run).returns.resolves.toEqualTypeOf<PipelineLatentOutput>();
    const unusable = async () => {
      const pipe = await loadPipeline('dir', { vae: false });
      const { video } = await pipe.generate(call);
      // @ts-expect-error a pipeline without its VAE has no video to hand on
      return videoToFrames(video);
    };
    expectTypeOf(unusable).toBeFunction();
    const ways = async (p: Pipeline<false>, o: PipelineGenerateOptions) => [await p.generate(o), await p.generate({ class_labels: [207], seed: 0 }), await p.generate({ ...call, output_type: 'latent' })] as const;
    expectTypeOf(ways).returns.resolves.toEqualTypeOf<readonly [PipelineLatentOutput, PipelineLatentOutput, PipelineLatentOutput]>();
    expectTypeOf<Pipeline<false>['vae']>().toEqualTypeOf<undefined>();
    expectTypeOf<Pipeline['vae']>().toEqualTypeOf<Vae | undefined>();
  });

  it('a loaded-with-VAE pipeline keeps video; a Pipeline<false> is accepted where Pipeline is', () => {
    const run = async () => (await loadPipeline('dir')).generate(call);
    expectTypeOf(run).returns.resolves.toEqualTypeOf<PipelineVideoOutput>();
    const widen = (p: Pipeline<false>): Pipeline => p;
    const profiled = (p: Pipeline<false>): Parameters<typeof profilePipeline>[0] => p;
    // …but not the other way: a pipeline typed as decoding is no Pipeline<false>
    // @ts-expect-error Pipeline's vae may be a Vae
    const narrow = (p: Pipeline): Pipeline<false> => p;
    expectTypeOf([widen, profiled, narrow]).toBeArray();
  });
});
