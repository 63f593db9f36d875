// Help is asked for the same way everywhere: --help, its short form -h, and `tessera help CMD`
// print that command's help (exit 0, stdout) for every command `tessera --help` lists, version
// included; a bad benchmark name with --help is still refused (exit 2), not answered with the bench
// help. No GPU is needed: help returns before any GPU work, so all but `tessera --help` (spawned: the launcher
// and the exit status as a shell sees them) go through the CLI's entry in this process (tesseraInProcess: main(),
// whose return the launcher exits with), one at a time, not ~30 spawns of two Node starts and a module load each.
import { describe, expect, it } from 'vitest';
import { tesseraCli, tesseraInProcess } from '../helpers/cli.js';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { benchCommand } from '../../src/cli/cmd-bench.js';

// the commands as a user finds them: the names in the table of `tessera --help`
const top = await tesseraCli(['--help']);
const listed = top.stdout.split('\n').flatMap((l) => /^ {2}([a-z][a-z-]*) {2,}\S/.exec(l)?.[1] ?? []);

describe('parseArgs: -h and --help', () => {
  it('-h is --help; the required flags may be missing with it', () => {
    expect(parseArgs({ name: 'x', summary: '', flags: { out: { type: 'string', help: 'o', required: true } } }, ['-h']).help).toBe(true);
  });
  it('a positional not among its choices is refused even with --help', () => {
    expect(() => parseArgs(benchCommand.spec, ['bogus', '--help'])).toThrow(new UsageError('tessera bench: benchmark "bogus" is not one of ceiling, gemm, attention, layernorm, conv, block, suite, model, vae, plan'));
  });
  it('"-h" after a flag that takes a value is refused (it is --help\'s short form); "--prompt=-h" gives it as the value', () => {
    const spec = { name: 'x', summary: '', flags: { prompt: { type: 'string' as const, help: 'p' } } };
    expect(() => parseArgs(spec, ['--prompt', '-h'])).toThrow(new UsageError("--prompt needs a value (a string); -h is --help's short form (write --prompt=-h to give it as the value)"));
    expect(parseArgs(spec, ['--prompt=-h']).prompt).toBe('-h');
  });
});

describe('tessera … -h / --help / help CMD', () => {
  const first = (s: string) => s.split('\n')[0];

  it('tessera --help lists every command, version among them', () => {
    expect(top.code).toBe(0);
    expect(listed).toEqual(['info', 'forward', 'generate', 'encode', 'decode', 'demo', 'bench', 'tune', 'version']);
  });

  // every listed command, both forms: `CMD --help` and `help CMD` print the same help
  it.each(listed)('%s: CMD --help and help CMD print its help, exit 0', async (name) => {
    const flag = await tesseraInProcess([name, '--help']);
    const word = await tesseraInProcess(['help', name]);
    for (const r of [flag, word]) {
      expect(r.stderr).toBe('');
      expect(first(r.stdout)).toMatch(new RegExp(`^tessera ${name} — `));
      expect(r.stdout).toContain(`usage: tessera ${name}`);
      expect(r.code).toBe(0);
    }
    expect(word.stdout).toBe(flag.stdout);
  });

  it('--version is version: it takes --help/-h and refuses an argument', async () => {
    // (version and --version alone: tests/hardening/cli.test.ts)
    const help = await tesseraInProcess(['help', '--version']);
    const alias = await tesseraInProcess(['--version', '-h']);
    const extra = await tesseraInProcess(['--version', 'x']);
    for (const r of [help, alias]) {
      expect(r.stderr).toBe('');
      expect(first(r.stdout)).toBe("tessera version — print tessera's version (also tessera --version)");
      expect(r.code).toBe(0);
    }
    expect(extra.stderr.trim()).toBe('tessera: error: UsageError: tessera version: unexpected argument "x"');
    expect(extra.code).toBe(2);
  });

  it.each([
    [['generate', '-h'], 'tessera generate — '],
    [['bench', 'gemm', '-h'], 'tessera bench gemm — '],
    [['help', 'bench', 'gemm'], 'tessera bench gemm — '],
    [['tune', '-h', '--no-tune'], 'tessera tune — '],
    [['help'], 'tessera — video diffusion transformers on WebGPU'],
  ])('%j prints that help, exit 0', async (args, head) => {
    const r = await tesseraInProcess(args);
    expect(r.stderr).toBe('');
    expect(first(r.stdout)).toMatch(new RegExp(`^${head.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(r.code).toBe(0);
  });

  it('bench --help lists every benchmark in its usage (plan too); generate --help gives the embedded pipeline\'s defaults', async () => {
    const b = await tesseraInProcess(['bench', '--help']);
    const usage = b.stdout.split('\n').find((l) => l.startsWith('usage: '))!;
    for (const sub of ['ceiling', 'gemm', 'attention', 'layernorm', 'conv', 'block', 'model', 'vae', 'suite', 'plan']) expect(usage, sub).toMatch(new RegExp(`(usage: tessera bench |\\| )${sub}\\b`));
    const g = await tesseraInProcess(['generate', '--help']);
    const line = (flag: string) => g.stdout.split('\n').find((l) => l.startsWith(`  --${flag} `))!;
    expect(line('steps')).toMatch(/denoising steps \(required with --model; default 50 with --pipeline, as diffusers; 20 for the embedded pipeline\)$/);
    expect(line('frames')).toContain('the embedded pipeline: 9');
    expect(line('batch')).toContain('1 to 64');
    expect(g.stdout).toContain('(the embedded tessera-shapes pipeline: 20 steps, 9 frames of 32×32 (its trained size), seed 0)');
  });

  it('bench bogus --help: the unknown-benchmark error, exit 2', async () => {
    const r = await tesseraInProcess(['bench', 'bogus', '--help']);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('tessera: error: UsageError: tessera bench: benchmark "bogus" is not one of ceiling, gemm, attention, layernorm, conv, block, suite, model, vae, plan');
    expect(r.code).toBe(2);
  });

  it('help bogus: unknown command, exit 2', async () => {
    const r = await tesseraInProcess(['help', 'bogus']);
    expect(r.stderr.trim()).toBe('tessera: error: UsageError: unknown command "bogus"; commands: info, forward, generate, encode, decode, demo, bench, tune, version');
    expect(r.code).toBe(2);
  });
});
