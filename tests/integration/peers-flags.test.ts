// bench/peers/run.ts's flags (npm run bench:peers): a bad or misspelled flag is one line naming the
// flag and what it takes, exit 2, before any benchmark runs. Only refusals and --help are run here:
// the benchmark itself needs onnxruntime-web/tfjs and minutes.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeCli } from '../helpers/cli.js';

const root = join(import.meta.dirname, '..', '..');
const USAGE = 'usage: npm run bench:peers -- [--only gemm,layernorm,attention,block] [--peers onnxruntime-web,tfjs] [--repeats N] [--warmup N] [--json] [--full] [--tol-scale X] [--devices shared|separate]';

const peers = (...args: string[]) => nodeCli([join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'bench', 'peers', 'run.ts'), ...args], { timeoutMs: 60_000 });

describe('bench:peers flags', () => {
  const cases: [string[], string][] = [
    [['--repeats', '0'], 'bench:peers: --repeats must be an integer ≥ 1, got "0"'],
    [['--warmup=-1'], 'bench:peers: --warmup must be an integer ≥ 0, got "-1"'],
    [['--only', 'nope'], 'bench:peers: --only takes a comma-separated list of gemm, layernorm, attention, block, got "nope"'],
    [['--peers', 'nope'], 'bench:peers: --peers takes a comma-separated list of onnxruntime-web, tfjs, got "nope"'],
    [['--devices', 'one'], 'bench:peers: --devices must be shared or separate, got "one"'],
    [['--tol-scale', 'x'], 'bench:peers: --tol-scale must be a number ≥ 1, got "x"'],
    [['--repats', '3'], `bench:peers: Unknown option '--repats'; ${USAGE}`],
  ];
  for (const [args, line] of cases) {
    it(args.join(' '), async () => {
      const r = await peers(...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(line);
      expect(r.stdout).toBe('');
    }, 90_000);
  }

  it('--help prints the usage, exit 0', async () => {
    const r = await peers('--help');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(USAGE);
  }, 90_000);
});
