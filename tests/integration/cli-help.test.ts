// Help is asked for the same way everywhere: --help, its short form -h, and `tessera help CMD`
// print that command's help (exit 0, stdout); a bad benchmark name with --help is still refused
// (exit 2), not answered with the bench help. No GPU is needed: help returns before any GPU work.
import { describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { benchCommand } from '../../src/cli/cmd-bench.js';

describe('parseArgs: -h and --help', () => {
  it('-h is --help; the required flags may be missing with it', () => {
    expect(parseArgs({ name: 'x', summary: '', flags: { out: { type: 'string', help: 'o', required: true } } }, ['-h']).help).toBe(true);
  });
  it('a positional not among its choices is refused even with --help', () => {
    expect(() => parseArgs(benchCommand.spec, ['bogus', '--help'])).toThrow(new UsageError('tessera bench: benchmark "bogus" is not one of ceiling, gemm, attention, layernorm, conv, block, suite, model, vae, plan'));
  });
  it('a value "-h" of a flag stays the value', () => {
    expect(parseArgs({ name: 'x', summary: '', flags: { prompt: { type: 'string', help: 'p' } } }, ['--prompt', '-h']).prompt).toBe('-h');
  });
});

describe('tessera … -h / --help / help CMD', () => {
  const first = (s: string) => s.split('\n')[0];
  it.each([
    [['generate', '-h'], 'tessera generate — '],
    [['generate', '--help'], 'tessera generate — '],
    [['help', 'generate'], 'tessera generate — '],
    [['demo', '-h'], 'tessera demo — '],
    [['bench', '-h'], 'tessera bench — '],
    [['bench', 'gemm', '-h'], 'tessera bench gemm — '],
    [['help', 'bench', 'gemm'], 'tessera bench gemm — '],
    [['tune', '-h'], 'tessera tune — '],
    [['decode', '-h'], 'tessera decode — '],
    [['help'], 'tessera — video diffusion transformers on WebGPU'],
  ])('%j prints that help, exit 0', async (args, head) => {
    const r = await tesseraCli(args);
    expect(r.stderr).toBe('');
    expect(first(r.stdout)).toMatch(new RegExp(`^${head.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(r.code).toBe(0);
  });

  it('bench --help lists every benchmark in its usage (plan too); generate --help gives the embedded pipeline\'s defaults', async () => {
    const b = await tesseraCli(['bench', '--help']);
    const usage = b.stdout.split('\n').find((l) => l.startsWith('usage: '))!;
    for (const sub of ['ceiling', 'gemm', 'attention', 'layernorm', 'conv', 'block', 'model', 'vae', 'suite', 'plan']) expect(usage, sub).toMatch(new RegExp(`(usage: tessera bench |\\| )${sub}\\b`));
    const g = await tesseraCli(['generate', '--help']);
    const line = (flag: string) => g.stdout.split('\n').find((l) => l.startsWith(`  --${flag} `))!;
    expect(line('steps')).toMatch(/denoising steps \(required with --model; default 50 with --pipeline, as diffusers; 20 for the embedded pipeline\)$/);
    expect(line('frames')).toContain('the embedded pipeline: 9');
    expect(line('batch')).toContain('1 to 64');
    expect(g.stdout).toContain('(the embedded tessera-shapes pipeline: 20 steps, 9 frames of 32×32, seed 0)');
  });

  it('bench bogus --help: the unknown-benchmark error, exit 2', async () => {
    const r = await tesseraCli(['bench', 'bogus', '--help']);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('tessera: error: UsageError: tessera bench: benchmark "bogus" is not one of ceiling, gemm, attention, layernorm, conv, block, suite, model, vae, plan');
    expect(r.code).toBe(2);
  });

  it('help bogus: unknown command, exit 2', async () => {
    const r = await tesseraCli(['help', 'bogus']);
    expect(r.stderr.trim()).toBe('tessera: error: UsageError: unknown command "bogus"; commands: info, forward, generate, encode, decode, demo, bench, tune');
    expect(r.code).toBe(2);
  });
});
