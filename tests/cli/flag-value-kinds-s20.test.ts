// A flag given without its value says what value, in the flag's own terms: its help placeholder (DIR, FILE.mp4,
// NAME, SIZE, TEXT, …) and its help's first example, where it said `needs a value (a string)` for every string flag.
// Integer, number and choice flags keep `needs a value (an integer)` (as their conversion refusals word them).
import { describe, expect, it } from 'vitest';
import { valueKind } from '../../src/cli/args.js';
import { loadCommands } from '../../src/cli/main.js';
import { tesseraInProcess } from '../helpers/cli.js';

// every command's module (tessera's own run imports only the one it runs: main.ts)
const commands = await loadCommands();

const refusal = async (args: string[]) => {
  const r = await tesseraInProcess(args);
  expect(r.code).toBe(2);
  return r.stderr.trim();
};

describe('"needs a value" in the flag\'s terms', () => {
  it.each([
    [['generate', '--out', 'x.safetensors', '--video'], '--video needs a file path (.mp4)'],
    [['generate', '--out', 'x.safetensors', '--preview'], '--preview needs a file path (.gif)'],
    [['generate', '--pipeline', '--prompt', 'a red circle'], '--pipeline needs a folder path'],
    [['forward', '--variant'], '--variant needs a name (e.g. fp16)'],
    [['generate', '--max-memory'], '--max-memory needs a size (e.g. 2GiB)'],
    [['generate', '--prompt'], '--prompt needs text (in quotes when it has spaces; "" for none)'],
    [['bench', 'gemm', '--variants'], "--variants needs a list (e.g. 'default@HEAD;default')"],
    [['generate', '--steps'], '--steps needs a value (an integer)'],
  ])('%j', async (args, line) => {
    expect(await refusal(args)).toBe(`tessera: error: UsageError: ${line}`);
  });

  it('every string flag of every command has a kind of its own (no bare "a value (…)")', () => {
    const bare = commands.flatMap((c) => Object.entries(c.spec.flags).filter(([, f]) => f.type === 'string' && valueKind(f).startsWith('a value')).map(([n]) => `${c.spec.name} --${n}`));
    expect(bare).toEqual([]);
  });
});
