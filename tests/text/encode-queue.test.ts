// Umt5TextEncoder.encodePrompt checks its call before joining the encoder's queue (as
// Pipeline.generate does): a bad call is refused at once, not after the calls queued before it.
// A stand-in encoder whose encode is held open plays the long call in flight (no weights, no device).
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/model.js';
import { DisposedError } from '../../src/gpu/serial.js';
import { Umt5TextEncoder } from '../../src/text/prompt-encoder.js';
import type { T5Tokenizer } from '../../src/text/tokenizer.js';
import type { Umt5Encoder } from '../../src/text/umt5.js';

const D = 2;

/** An encoder whose encode() waits until release() is called; counts the encodes started. */
function heldEncoder() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const started: number[] = [];
  const tokenizer = {
    tokenize: (prompts: readonly string[], L: number) => ({ ids: new Int32Array(prompts.length * L), lengths: prompts.map(() => 1) }),
  } as unknown as T5Tokenizer;
  const encoder = {
    folder: { name: 'stand-in' },
    config: { dModel: D },
    encode: async (_ids: Int32Array, lengths: readonly number[], n: number) => {
      started.push(lengths.length);
      await gate;
      return new Float32Array(lengths.length * n * D).fill(1);
    },
    gpu: {},
    dispose: () => {},
  } as unknown as Umt5Encoder;
  return { enc: new Umt5TextEncoder(tokenizer, encoder, false), release, started };
}

/** 'pending' when `p` has not settled within a few turns of the event loop. */
async function settled(p: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  return Promise.race([
    p.then(() => 'resolved' as const, () => 'rejected' as const),
    new Promise<'pending'>((r) => setTimeout(() => r('pending'), 50)),
  ]);
}

describe('encodePrompt refuses a bad call without waiting for the call in flight', () => {
  it('bad prompts, options and lengths reject while a long encode runs; good calls still queue behind it', async () => {
    const { enc, release, started } = heldEncoder();
    const long = enc.encodePrompt('a red circle', { max_sequence_length: 16 });
    expect(await settled(long)).toBe('pending');
    expect(started).toEqual([1]);
    for (const [p, o, msg] of [
      [['a', 3], {}, 'prompts[1]: a string, got number 3'],
      [[], {}, 'prompts: an empty list; give at least one prompt'],
      ['a', { max_sequence_length: 0 }, 'max_sequence_length: a positive integer up to 65536, got 0'],
      ['a', { maxSequenceLength: 16 }, 'maxSequenceLength: not an option of encodePrompt; did you mean max_sequence_length? (options: max_sequence_length, runPlan)'],
      ['a', { runPlan: 'yes' }, 'runPlan: a function, got "yes"'],
    ] as const) {
      const bad = enc.encodePrompt(p as unknown as string[], o as object);
      expect(await settled(bad), JSON.stringify([p, o])).toBe('rejected');
      const e = await bad.catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toBe(msg);
    }
    // a good call made now waits for the long one (one encode at a time, in call order)
    const next = enc.encodePrompt(['a blue square', 'a green triangle'], { max_sequence_length: 16 });
    expect(await settled(next)).toBe('pending');
    expect(started).toEqual([1]);
    release();
    expect((await long).shape).toEqual([1, 16, D]);
    expect((await next).shape).toEqual([2, 16, D]);
    expect(started).toEqual([1, 2]);
  });

  it('after dispose() a call is a DisposedError, even a bad one', async () => {
    const { enc, release } = heldEncoder();
    release();
    enc.dispose();
    const e = await enc.encodePrompt(['a', 3] as unknown as string[]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DisposedError);
    expect((e as Error).message).toBe('text encoder stand-in was disposed: load it again to use it');
  });
});
