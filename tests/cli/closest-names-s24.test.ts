// A name several names share (--preset wan: wan-1.3b, wan-14b and wan-tiny all hold the word) is answered with every one
// of them, not the shortest alone (which suggested wan-14b, the largest model, to a user who may have meant wan-tiny):
// closestNames and meantText (src/closest-name.ts), getPreset, a choice flag, an unknown flag and an unknown command.
import { describe, expect, it } from 'vitest';
import { closestName, closestNames, meantText } from '../../src/closest-name.js';
import { getPreset } from '../../src/model/presets.js';
import { InputError } from '../../src/model/model.js';
import { nearestName, nearestNames, parseArgs, unknownName, UsageError, type CommandSpec } from '../../src/cli/args.js';
import { demoCommand } from '../../src/cli/cmd-demo.js';
import { thrown } from '../helpers/errors.js';

const PRESETS = 'dit-s-2, dit-xl-2, wan-1.3b, wan-14b, latte-1, wan-tiny, dit-tiny';

describe('closestNames', () => {
  it('every name holding the words, in the order given; one for an exact, alias or near spelling; none when far', () => {
    const presets = PRESETS.split(', ');
    expect(closestNames('wan', presets)).toEqual(['wan-1.3b', 'wan-14b', 'wan-tiny']);
    expect(closestNames('dit', presets)).toEqual(['dit-s-2', 'dit-xl-2', 'dit-tiny']);
    expect(closestNames('tiny', presets)).toEqual(['wan-tiny', 'dit-tiny']);
    expect(closestNames('wan_tiny', presets)).toEqual(['wan-tiny']);
    expect(closestNames('wan-tiyn', presets)).toEqual(['wan-tiny']);
    expect(closestNames('latte', presets)).toEqual(['latte-1']);
    expect(closestNames('zzz', presets)).toEqual([]);
    expect(closestNames('generator', ['seed', 'steps'], { generator: 'seed' })).toEqual(['seed']);
    // closestName keeps its one answer: the shortest holding name
    expect(closestName('wan', presets)).toBe('wan-14b');
    expect(closestName('steps', ['num_inference_steps', 'guidance_scale'])).toBe('num_inference_steps');
  });

  it('meantText: one name, several as "one of", each led by the prefix; nothing for none', () => {
    expect(meantText(['wan-tiny'])).toBe('wan-tiny');
    expect(meantText(['wan-1.3b', 'wan-14b', 'wan-tiny'])).toBe('one of wan-1.3b, wan-14b, wan-tiny');
    expect(meantText(['max-memory', 'max-binding'], '--')).toBe('one of --max-memory, --max-binding');
    expect(meantText([])).toBeUndefined();
  });
});

describe('the refusals suggest every name sharing the prefix', () => {
  it('getPreset and --preset', () => {
    expect(thrown(() => getPreset('wan'), InputError).message).toBe(`unknown preset "wan"; did you mean one of wan-1.3b, wan-14b, wan-tiny? presets: ${PRESETS}`);
    expect(thrown(() => getPreset('wan-tiyn'), InputError).message).toBe(`unknown preset "wan-tiyn"; did you mean wan-tiny? presets: ${PRESETS}`);
    expect(thrown(() => parseArgs(demoCommand.spec, ['--preset', 'wan']), UsageError).message).toBe(`--preset must be one of ${PRESETS}, got "wan" (did you mean one of wan-1.3b, wan-14b, wan-tiny?)`);
    expect(thrown(() => parseArgs(demoCommand.spec, ['--preset', 'dit-tyni']), UsageError).message).toBe(`--preset must be one of ${PRESETS}, got "dit-tyni" (did you mean dit-tiny?)`);
  });

  it('an unknown flag and an unknown command', () => {
    const spec: CommandSpec = { name: 'x', summary: 'x', flags: { 'max-memory': { type: 'string', help: 'm' }, 'max-binding': { type: 'string', help: 'b' }, steps: { type: 'int', help: 's' } } };
    expect(thrown(() => parseArgs(spec, ['--max', '1']), UsageError).message).toBe('tessera x: unknown flag --max (did you mean one of --max-memory, --max-binding?)');
    expect(thrown(() => parseArgs(spec, ['--stpes', '1']), UsageError).message).toBe('tessera x: unknown flag --stpes (did you mean --steps?)');
    expect(unknownName('command', 'bench', ['bench-model', 'bench-vae', 'info'], 'none')).toBe('unknown command "bench" (did you mean one of bench-model, bench-vae?)');
    expect(nearestNames('bench', ['bench-model', 'bench-vae'])).toEqual(['bench-model', 'bench-vae']);
    expect(nearestName('bench', ['bench-model', 'bench-vae'])).toBe('bench-vae');
  });
});
