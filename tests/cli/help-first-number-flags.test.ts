// `tessera -h CMD` / `tessera --help CMD` are `tessera help CMD` (CMD's help; an unknown CMD is exit 2),
// where they printed the top help and ignored CMD (`--help bogus` exited 0). Number flags (--guidance,
// --shift, --fps …) take decimal numbers only, as the integer flags do: Number() also read 0x10 as 16,
// 0b11 and 0o7 too, so a typo ran with another value.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { generateCommand } from '../../src/cli/cmd-generate.js';

/** main() in-process: exit code, stdout and stderr as text. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const code = await main(argv);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
afterEach(() => vi.restoreAllMocks());

describe('-h / --help before the command', () => {
  it.each([['-h'], ['--help']])('tessera %s generate is tessera help generate (its help, exit 0)', async (flag) => {
    const [r, word] = [await run(flag, 'generate'), await run('help', 'generate')];
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out.split('\n')[0]).toMatch(/^tessera generate — /);
    expect(r.out).toBe(word.out);
  });

  it('--help bench gemm: the benchmark\'s help', async () => {
    const r = await run('--help', 'bench', 'gemm');
    expect(r.code).toBe(0);
    expect(r.out).toBe((await run('bench', 'gemm', '--help')).out);
  });

  it.each([['--help'], ['-h'], ['help']])('tessera %s bogus: exit 2, unknown command', async (flag) => {
    const r = await run(flag, 'bogus');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe('tessera: error: UsageError: unknown command "bogus"; commands: info, forward, generate, encode, decode, demo, bench, tune, version');
  });

  it('--help, -h, help --help, -h -h, --help --no-tune: the top help, exit 0', async () => {
    const top = await run('--help');
    expect(top.code).toBe(0);
    expect(top.out.split('\n')[0]).toBe('tessera — video diffusion transformers on WebGPU');
    for (const argv of [['-h'], ['help'], ['help', '--help'], ['-h', '-h'], ['--help', '--no-tune']]) {
      const r = await run(...argv);
      expect([r.code, r.out, r.err], argv.join(' ')).toEqual([0, top.out, '']);
    }
  });
});

describe('number flags: decimal only', () => {
  const guidance = (v: string) => parseArgs(generateCommand.spec, ['--out', 'o.safetensors', '--guidance', v]).guidance;

  it.each(['0x10', '0X10', '0b11', '0o7', 'Infinity', '-Infinity', '1e999', 'NaN', '+4', '4.5.1', '', ' ', '1_000'])('--guidance "%s": one UsageError naming the flag', (v) => {
    expect(() => guidance(v)).toThrow(new UsageError(`--guidance must be a finite decimal number (e.g. 4, -0.5, 1e-3), got "${v}"`));
  });

  it.each([
    ['4', 4],
    ['-0.5', -0.5],
    ['1e-3', 1e-3],
    ['2E2', 200],
    ['.5', 0.5],
    ['5.', 5],
    ['007', 7],
  ])('--guidance "%s" is %d', (v, n) => {
    expect(guidance(v)).toBe(n);
  });

  it('on the command line: exit 2 and the one line', async () => {
    const r = await run('generate', '--out', 'o.safetensors', '--shift', '0x10');
    expect(r.code).toBe(2);
    expect(r.err).toBe('tessera: error: UsageError: --shift must be a finite decimal number (e.g. 4, -0.5, 1e-3), got "0x10"');
  });
});
