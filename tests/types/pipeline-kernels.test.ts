// Pipeline.generate's onKernels events as the README's example reads them: `type` narrows a compile event
// (done/total) from a tune event (family, bucket, candidates, where), both tagged with their stage; watchKernels
// (the api's export) takes the same events without a stage. `npx tsc --noEmit -p .` fails on a wrong type.
import { describe, expectTypeOf, it } from 'vitest';
import type { KernelEvent, Pipeline, PipelineGenerateOptions, PipelineKernelEvent, PipelineStage } from '../../src/api.js';
import { watchKernels } from '../../src/api.js';

describe('onKernels event types', () => {
  it('narrow on type; carry the stage; watchKernels returns its stop function', () => {
    expectTypeOf<NonNullable<PipelineGenerateOptions['onKernels']>>().parameter(0).toEqualTypeOf<PipelineKernelEvent>();
    const show = (e: PipelineKernelEvent): string =>
      e.type === 'compile' ? `${e.stage}: compiling kernels ${e.done}/${e.total}` : `${e.stage}: tuning ${e.family} ${e.bucket} (${e.done}/${e.total} shapes; ${e.candidates.join(', ')}) → ${e.where ?? 'not cached'}`;
    expectTypeOf(show).toBeFunction();
    expectTypeOf<PipelineKernelEvent['stage']>().toEqualTypeOf<PipelineStage>();
    expectTypeOf<PipelineStage>().toEqualTypeOf<'text' | 'denoise' | 'decode'>();
    const use = (pipe: Pipeline) => watchKernels(pipe.gpu, (e: KernelEvent) => void e.done);
    expectTypeOf(use).returns.toEqualTypeOf<() => void>();
    // @ts-expect-error a compile event has no family
    const family = (e: KernelEvent & { type: 'compile' }) => e.family;
    expectTypeOf(family).toBeFunction();
  });
});
