// README.md documents what Pipeline.generate and `tessera demo` take: every option of Pipeline.generate (the
// record it checks option names against, src/pipeline/pipeline.ts) is named in README, and every flag of
// `tessera demo --help` (but the ones every command has) stands in README's `tessera demo` command lines. An
// option or flag added without a word for users (onStepProfile, --profile-steps were) fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCommands } from '../../src/cli/main.js';
import { ROOT } from '../helpers/golden.js';

// every command's module (tessera's own run imports only the one it runs: main.ts)
const commands = await loadCommands();

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** Flags every command takes, documented once for all. */
const COMMON = ['help', 'debug', 'no-tune', 'quiet'];

describe('README: Pipeline.generate options and tessera demo flags', () => {
  it("names every option of Pipeline.generate (onStepProfile included)", () => {
    const src = readFileSync(join(ROOT, 'src', 'pipeline', 'pipeline.ts'), 'utf8');
    const record = /const GENERATE_OPTIONS[^=]*= \{([^}]*)\}/.exec(src);
    expect(record, 'GENERATE_OPTIONS in src/pipeline/pipeline.ts').not.toBeNull();
    const names = [...record![1]!.matchAll(/(\w+): true/g)].map((m) => m[1]!);
    expect(names).toContain('onStepProfile');
    const missing = names.filter((n) => !new RegExp(`\`${n}\`|\\b${n}:`).test(README));
    expect(missing, 'Pipeline.generate options README never names').toEqual([]);
  });

  it("shows every flag of tessera demo in its command lines (--profile-steps and --repeats included)", () => {
    const demo = commands.find((c) => c.spec.name === 'demo')!;
    const flags = Object.keys(demo.spec.flags).filter((f) => !COMMON.includes(f));
    expect(flags).toContain('profile-steps');
    const lines = [...README.matchAll(/```sh\n([\s\S]*?)```/g)]
      .flatMap((b) => b[1]!.replace(/\\\n\s*/g, ' ').split('\n'))
      .filter((l) => /\btessera demo\b/.test(l));
    const shown = new Set(lines.flatMap((l) => [...l.replace(/\s#\s.*$/, '').matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!)));
    expect(flags.filter((f) => !shown.has(f)), "tessera demo flags README's command lines leave out").toEqual([]);
    // the prose says what --profile-steps gives
    expect(README).toMatch(/--profile-steps` times every step of the loop/);
  });
});
