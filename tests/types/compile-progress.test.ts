// compilePipelines' onProgress is a Hook<A> (src/hook.ts) like every other tessera callback, not its own
// `=> void` spelling (a fresh user's list, session 16). `npx tsc --noEmit -p .` fails on a wrong type.
import { describe, expectTypeOf, it } from 'vitest';
import type { compilePipelines } from '../../src/gpu/kernel.js';
import type { Hook } from '../../src/hook.js';

describe('compilePipelines onProgress', () => {
  it('is Hook<[done, total]>', () => {
    expectTypeOf<Parameters<typeof compilePipelines>[2]>().toEqualTypeOf<Hook<[done: number, total: number]> | null | undefined>();
  });
});
