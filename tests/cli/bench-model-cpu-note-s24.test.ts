// Session 23 bench review #4: `tessera bench model` at real size on a CPU adapter started with no word on how long it
// would take (a wan-1.3b 480p step is hours there). It now prints, before any weight is made, the line tessera generate
// and demo print (cpuLoopNote, src/cli/cpu-note.ts), for its timed forwards (warm-up + repeats, + the check's two
// batch-2 forwards when it runs at the timed latent) and ending with bench model's own flags. The CLI case stops the
// run as soon as the line is out. Nothing timed.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_MODEL_SMALLER, benchModelCpuNote } from '../../src/cli/bench-model.js';
import { CPU_GENEROUS_GFLOPS_PER_CORE } from '../../src/cli/cpu-note.js';
import { parseConfig } from '../../src/model/config.js';
import { getPreset } from '../../src/model/presets.js';
import { gpu } from '../helpers/gpu.js';

const root = join(import.meta.dirname, '..', '..');

/** `tessera ...args` until a stderr line matches `want` (then SIGTERM) or it exits; the stderr lines seen. */
function stderrUntil(args: string[], want: RegExp, timeoutMs: number): Promise<{ lines: string[]; hit?: string }> {
  const child = spawn(process.execPath, [join(root, 'bin', 'tessera.mjs'), ...args], { cwd: root, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
  child.stdout.resume();
  const lines: string[] = [];
  let hit: string | undefined;
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  createInterface({ input: child.stderr }).on('line', (l) => {
    lines.push(l);
    if (hit === undefined && want.test(l)) {
      hit = l;
      child.kill('SIGTERM');
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(killer);
      resolve({ lines, ...(hit !== undefined ? { hit } : {}) });
    });
  });
}

describe.skipIf(!gpu?.isCpu)('bench model on a CPU adapter: the run-time estimate before the run', () => {
  const cfg = parseConfig(getPreset('dit-xl-2').config);
  // dit-xl-2 at a 128×128 latent: 4096 tokens an item, ~13 TFLOP a CFG step: past the 30 s line at 100 GFLOP/s per core up to 4 cores
  const latent = [2, 4, 128, 128];

  it('benchModelCpuNote: cpuLoopNote for the CFG batch of 2 and the forwards, with bench model\'s flags; none for a tiny step', () => {
    const note = benchModelCpuNote({ config: cfg, dtype: 'f32', gpu: gpu! }, latent, 32, 3);
    if (availableParallelism() > 4) return; // a host this large runs the step under the line
    expect(note).toMatch(/^CPU adapter: one denoising step is [\d.]+ TFLOP \(the transformer over 4096 tokens × CFG batch 2\): at least .+ a step, .+ for 3 steps, a lower bound/);
    expect(note!.endsWith(`: ${BENCH_MODEL_SMALLER}`)).toBe(true);
    const one = benchModelCpuNote({ config: cfg, dtype: 'f32', gpu: gpu! }, latent, 32, 1)!;
    expect(one).toContain('for 1 step,');
    expect(benchModelCpuNote({ config: parseConfig(getPreset('dit-tiny').config), dtype: 'f32', gpu: gpu! }, [2, 4, 16, 16], 32, 3)).toBeUndefined();
  });

  it.skipIf(availableParallelism() > 4)('the CLI prints it before any weight is made (--repeats 2 --warmup 1: 3 forwards; the check at its smaller latent)', async () => {
    const want = benchModelCpuNote({ config: cfg, dtype: 'f32', gpu: gpu! }, latent, 32, 3)!;
    const r = await stderrUntil(['bench', 'model', '--preset', 'dit-xl-2', '--height', '128', '--width', '128', '--repeats', '2', '--warmup', '1', '--json'], /^CPU adapter: |^tessera: error/, 120_000);
    expect(r.hit, r.lines.join('\n')).toBe(want);
    expect(want).toContain(`${CPU_GENEROUS_GFLOPS_PER_CORE * availableParallelism()} GFLOP/s`);
    // nothing made yet: the line comes before "making dit-xl-2 …"
    expect(r.lines.slice(0, r.lines.indexOf(want)).some((l) => l.startsWith('making '))).toBe(false);
  }, 150_000);
});
