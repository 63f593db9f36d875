// Message wording slips a library user met (session 20, finding 5): each refusal one line led by the option's
// name, values shown as the caller gave them.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/input-error.js';
import { checkOptionNames } from '../../src/model/options.js';
import { resolveScheduler } from '../../src/sampler/generate.js';
import { resolveSchedulerClass, SchedulerConfigError } from '../../src/sampler/config.js';
import { checkMaxSequenceLength } from '../../src/text/prompt-encoder.js';
import { thrown as thrownAs } from '../helpers/errors.js';

const thrown = (f: () => unknown): Error => thrownAs(f, Error);

describe('wording', () => {
  it('an options object that is not one is shown once, by kind ("got undefined", not "got undefined undefined")', () => {
    const at = (o: unknown) => thrown(() => checkOptionNames(o, ['prompt'], 'Pipeline.generate', '{ prompt }')).message;
    expect(at(undefined)).toBe('Pipeline.generate: expected an options object such as { prompt }, got undefined');
    expect(at('a cat')).toBe('Pipeline.generate: expected an options object such as { prompt }, got "a cat"');
    expect(at(5)).toBe('Pipeline.generate: expected an options object such as { prompt }, got 5');
  });

  it('a scheduler that is a number is refused as a number, not as the name "5"', () => {
    const e = thrown(() => resolveSchedulerClass(5 as unknown as string));
    expect(e).toBeInstanceOf(SchedulerConfigError);
    expect(e.message).toMatch(/^scheduler: a scheduler class or short name \(a string\), got 5; supported: /);
  });

  it('generate() with neither scheduler nor scheduler_config says to give one (no "class defaults … _class_name")', () => {
    const e = thrown(() => resolveScheduler({}));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toBe("scheduler: missing; give scheduler (a class or short name such as 'unipc'), scheduler_config (the folder's scheduler_config.json, whose _class_name decides), or both");
    // a name alone still builds the class defaults, as X() / from_config({}) in diffusers
    expect(resolveScheduler({ scheduler: 'ddim', onWarning: () => {} }).className).toBe('DDIMScheduler');
  });

  it('max_sequence_length is led by its name as the other checks are', () => {
    expect(thrown(() => checkMaxSequenceLength(0)).message).toBe('max_sequence_length: a positive integer up to 65536, got 0');
  });
});
