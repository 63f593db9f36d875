// The CLI's mapping of the library's refusals of a flag's value to UsageError (src/cli/errors.ts): every axis
// past Wan's rope_max_seq_len is named by its flag, --steps replaces num_inference_steps, and
// any other error passes through untouched.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { ropeAsUsage, stepsAsUsage } from '../../src/cli/errors.js';
import { InputError, RopeLimitError } from '../../src/model/model.js';
import { StepCountError } from '../../src/sampler/config.js';
import { tesseraCli } from '../helpers/cli.js';

/** `map(e)` is a UsageError with `message` whose cause is `e`; `map(other)` is `other` itself. */
function expectMapped(map: (e: unknown) => unknown, e: Error, message: string, other: Error): void {
  const u = map(e) as UsageError;
  expect(u).toBeInstanceOf(UsageError);
  expect(u.message).toBe(message);
  expect(u.cause).toBe(e);
  expect(map(other)).toBe(other);
}

describe('ropeAsUsage and stepsAsUsage', () => {
  it('ropeAsUsage names each axis over the limit, keeps the message and the cause; other errors as they are', () => {
    const e = new RopeLimitError('grid 1030×1025×1 beyond 1024', ['frames', 'height']);
    expectMapped(ropeAsUsage, e, '--frames and --height: grid 1030×1025×1 beyond 1024', new InputError('hidden_states: [1,16,1030,4,4] …'));
  });

  it('stepsAsUsage says --steps for num_inference_steps, keeps the cause; other errors as they are', () => {
    const e = new StepCountError('num_inference_steps must be an integer in [1, 100] (num_train_timesteps), got 150', 150, 100);
    expectMapped(stepsAsUsage, e, '--steps must be an integer in [1, 100] (num_train_timesteps), got 150', new InputError('num_inference_steps must be an integer'));
  });
});

describe('two size flags past rope_max_seq_len', () => {
  it('bench plan names both flags (exit 2, no GPU)', async () => {
    const r = await tesseraCli(['bench', 'plan', '--preset', 'wan-tiny', '--frames', '1030', '--height', '2050', '--width', '2']);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^tessera: error: UsageError: --frames and --height: latent: \[2,16,1030,2050,2\] gives a grid of 1030×1025×1 .*rope_max_seq_len 1024 in frames and height: /);
    expect(r.code).toBe(2);
  }, 60_000);
});
