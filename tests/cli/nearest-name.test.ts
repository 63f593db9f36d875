// "did you mean" for a flag, command or benchmark (args.ts nearestName): a near spelling, another case or
// separator style, or the one name of the same letters in another order. A swap of two letters is two
// edits, more than a short name's one (--prot, --stpes got the whole flag list); scripts/serve-demo.ts
// kept its own search with that fallback for demo:web's flags, and now asks nearestName as parseArgs does.
import { describe, expect, it } from 'vitest';
import { nearestName, parseArgs, UnknownFlagError, unknownName } from '../../src/cli/args.js';
import { demoCommand } from '../../src/cli/cmd-demo.js';
import { serveOptions } from '../../scripts/serve-demo.js';
import { thrown } from '../helpers/errors.js';

describe('nearestName', () => {
  it('the same letters in another order: a transposition or an anagram', () => {
    expect(nearestName('prot', ['port', 'no-build'])).toBe('port');
    expect(nearestName('stpes', ['steps', 'seed', 'shift'])).toBe('steps');
    expect(nearestName('max-meomry', ['max-memory', 'out'])).toBe('max-memory'); // long enough for two edits: found before too
    expect(unknownName('benchmark', 'gmme', ['gemm', 'attention'], 'unknown benchmark')).toBe('unknown benchmark "gmme" (did you mean gemm?)');
  });

  it('none when two names have those letters, or none has them', () => {
    expect(nearestName('post', ['tops', 'spot'])).toBeUndefined();
    expect(nearestName('xyz', ['port', 'no-build'])).toBeUndefined();
  });

  it("parseArgs' unknown-flag line names it, and demo:web's line (scripts/serve-demo.ts) the same flag", () => {
    const e = thrown(() => parseArgs(demoCommand.spec, ['--stpes', '3']), UnknownFlagError);
    expect(e.message).toBe('tessera demo: unknown flag --stpes (did you mean --steps?)');
    expect(() => serveOptions(['--trop', '1'], {})).toThrow('unknown flag --trop; did you mean --port? (flags: --port, --no-build, --no-tune, --help)');
  });
});
