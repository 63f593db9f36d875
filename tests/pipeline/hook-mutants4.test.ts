// Mutation round 4 (session 17) on src/hook.ts: what the callback contract promises that callback-contract.test.ts
// did not pin. An AbortError a callback throws passes unchanged (hookError), hookQueue.settle() fails with the
// first failure (not the last), and awaits a promise kept while it was already settling (a callback fired from
// another one's continuation). Each case failed under a mutant that survived the older tests.
import { describe, expect, it } from 'vitest';
import { callHook, hookError, hookQueue } from '../../src/hook.js';

const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('callHook / hookError', () => {
  it('an AbortError from a callback passes unchanged: an abort, not "onStep failed"', async () => {
    const abort = new DOMException('the user stopped it', 'AbortError');
    const err = await callHook('onStep', 'Pipeline.generate, step 1/2', () => { throw abort; }).catch((e: unknown) => e);
    expect(err).toBe(abort);
    const rejected = await callHook('onStep', 'X', async () => { await later(1); throw abort; }).catch((e: unknown) => e);
    expect(rejected).toBe(abort);
    expect(hookError('onStep', 'X', abort)).toBe(abort);
    // any other error is wrapped, naming the callback and where
    const other = hookError('onStep', 'X', new Error('boom'));
    expect(other.message).toBe('X: onStep failed: boom');
  });
});

describe('hookQueue.settle()', () => {
  it('fails with the first failure, not the last', async () => {
    const q = hookQueue('onKernels', 'Pipeline.generate', async (ms: number, msg: string) => {
      await later(ms);
      throw new Error(msg);
    });
    q.call(5, 'first');
    q.call(60, 'second');
    const err = await q.settle().catch((e: unknown) => e);
    expect((err as Error).message).toBe('Pipeline.generate: onKernels failed: first');
  });

  it('awaits a promise kept while it was settling (a call fired from a kept promise), and its failure', async () => {
    const done: string[] = [];
    const q = hookQueue('onKernels', 'W', async (what: string) => {
      await later(5);
      // the first listener's continuation fires the next (GPU code that goes on while settle() waits)
      if (what === 'a') q.call('b');
      if (what === 'b') {
        await later(20);
        done.push('b');
        throw new Error('b broke');
      }
      done.push(what);
    });
    q.call('a');
    const err = await q.settle().catch((e: unknown) => e);
    expect(done).toEqual(['a', 'b']);
    expect((err as Error).message).toBe('W: onKernels failed: b broke');
  });
});
