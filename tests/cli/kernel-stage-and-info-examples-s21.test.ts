// The demo's "compiling kernels k/n" lines name the stage they compile for, and `tessera info`'s heuristic
// GEMM shapes say what they are examples of (session 21's fresh user, finding 12).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KERNEL_STAGE_WORDS } from '../../src/cli/cmd-demo.js';
import { kernelProgress, setKernelStage } from '../../src/cli/progress.js';
import type { KernelEvent } from '../../src/gpu/kernel.js';
import { PIPELINE_STAGES } from '../../src/profile/pipeline.js';
import { tesseraCli } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';
import { captureStderr, saveTerminalState } from '../helpers/stderr.js';

const compile = (done: number, total: number): KernelEvent => ({ type: 'compile', done, total });

describe('compiling kernels lines name the stage', () => {
  const restoreTerminal = saveTerminalState();
  afterEach(() => {
    setKernelStage(null);
    vi.restoreAllMocks();
    restoreTerminal();
  });
  it('off a terminal: "compiling text encoder kernels 6/6  N s" (the progress-line form scripts filter), and no word with no stage set', () => {
    delete process.env.TESSERA_STDERR_TTY;
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    const out = captureStderr();
    const show = kernelProgress();
    setKernelStage(KERNEL_STAGE_WORDS.text_encoder);
    show(compile(0, 6));
    show(compile(6, 6));
    setKernelStage(null);
    show(compile(0, 21));
    show(compile(21, 21));
    expect(out).toEqual([expect.stringMatching(/^compiling text encoder kernels 6\/6  \d+\.\d s\n$/), expect.stringMatching(/^compiling kernels 21\/21  \d+\.\d s\n$/)]);
    // the tests' (and scripts') progress-line filter: words, a count, seconds
    for (const l of out) expect(l.trimEnd()).toMatch(/^[\w ]+ \d+\/\d+  \d+\.\d s( elapsed)?$/);
  });
  it('every demo stage has its words', () => {
    for (const s of PIPELINE_STAGES) expect(KERNEL_STAGE_WORDS[s]).toMatch(/^[\w ]+$/);
  });
});

describe.skipIf(!hasGpu)('tessera info: the heuristic GEMM shapes are named examples', () => {
  it('each GEMM row says the call it is an example of, in the text and the JSON', async () => {
    const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
    const [text, json] = await Promise.all([tesseraCli(['info', '--no-tune'], { env }), tesseraCli(['info', '--json', '--no-tune'], { env })]);
    expect(text.code, text.stderr).toBe(0);
    const gemmLines = text.stdout.split('\n').filter((l) => l.startsWith('    gemm m×k×n '));
    expect(gemmLines).toHaveLength(3);
    for (const l of gemmLines) expect(l).toMatch(/ — example: \S/);
    expect(text.stdout).toContain("heuristic choices (used when nothing is cached, and always with --no-tune): the GEMM's by shape, at three example calls");
    const rows = (JSON.parse(json.stdout.trim().split('\n').pop()!) as { tuning: { heuristics: { op: string; shape: string; example: string | null }[] } }).tuning.heuristics;
    expect(rows.find((h) => h.shape === '2×1536×9216')!.example).toBe("Wan-1.3B's timestep projection, 2 rows (CFG)");
    expect(rows.filter((h) => h.op === 'gemm').every((h) => typeof h.example === 'string')).toBe(true);
  });
});
