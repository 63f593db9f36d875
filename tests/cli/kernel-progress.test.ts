// The CLI's kernel-progress lines come from KernelEvents of every device (watchAllKernels, the one
// mechanism behind watchKernels and Pipeline.generate's onKernels): "compiling kernels i/N", and one
// autotuning line for a run's own tuning, none for an explicit tunePlan (tessera tune, benchmarks).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kernelProgress, setQuiet, TUNE_LINE_MS } from '../../src/cli/progress.js';
import { captureStderr, saveTerminalState } from '../helpers/stderr.js';
import { emitKernelEvent, watchAllKernels, watchKernels, type KernelEvent } from '../../src/gpu/kernel.js';
import type { Gpu } from '../../src/gpu/device.js';

const compile = (done: number, total: number): KernelEvent => ({ type: 'compile', done, total });
const tune = (done: number, explicit: boolean, where: string | null = '/c/tessera/tune.json'): KernelEvent => ({ type: 'tune', family: 'gemm', bucket: 'f32 M8 N8 K8', candidates: ['a', 'b'], done, total: 2, where, explicit });
const TUNING = 'tuning kernels for this adapter: timing candidate kernels per shape (first run for these shapes; cached in /c/tessera/tune.json; --no-tune skips)\n';

describe('CLI kernel progress', () => {
  const restoreTerminal = saveTerminalState();
  afterEach(() => {
    vi.restoreAllMocks();
    setQuiet(false);
    restoreTerminal();
  });

  it('off a terminal: one "compiling kernels N/N" line per batch; one tuning line, for the run\'s own tuning only', () => {
    delete process.env.TESSERA_STDERR_TTY;
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    const out = captureStderr();
    const show = kernelProgress();
    for (const e of [compile(0, 3), compile(1, 3), compile(2, 3)]) show(e);
    expect(out).toEqual([]);
    show(compile(3, 3));
    expect(out).toEqual([expect.stringMatching(/^compiling kernels 3\/3  \d+\.\d s\n$/)]);
    out.length = 0;
    // tessera tune / a benchmark timing candidates on purpose: their own lines, not this one
    show(tune(0, true));
    show(tune(2, true));
    expect(out).toEqual([]);
    show(tune(0, false));
    show(tune(1, false));
    show(tune(2, false));
    show(tune(0, false)); // a later plan of the run: said once
    expect(out).toEqual([TUNING]);
    const none = captureStderr();
    kernelProgress()(tune(0, false, null));
    expect(none.at(-1)).toBe('tuning kernels for this adapter: timing candidate kernels per shape (first run for these shapes; not cached: no tuning store; --no-tune skips)\n');
  });

  it('a long tuning: at most one "tuned shapes i/N" line every TUNE_LINE_MS after the tuning line (user24 #2)', () => {
    delete process.env.TESSERA_STDERR_TTY;
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const out = captureStderr();
      const show = kernelProgress();
      const at = (done: number, total = 5): KernelEvent => ({ type: 'tune', family: 'gemm', bucket: `f32 M${done} N8 K8`, candidates: ['a', 'b'], done, total, where: null, explicit: false });
      show(at(0));
      expect(out).toHaveLength(1);
      vi.advanceTimersByTime(TUNE_LINE_MS - 1);
      show(at(1));
      expect(out).toHaveLength(1);
      vi.advanceTimersByTime(1);
      show(at(2));
      expect(out.slice(1)).toEqual([`tuned shapes 2/5, now gemm f32 M2 N8 K8  ${(TUNE_LINE_MS / 1000).toFixed(1)} s\n`]);
      vi.advanceTimersByTime(3000);
      show(at(3));
      expect(out).toHaveLength(2);
      vi.advanceTimersByTime(TUNE_LINE_MS);
      show(at(5)); // the end of the plan's tuning: no line
      show(tune(1, true)); // an explicit tunePlan: never
      expect(out).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('on a terminal: the count redrawn in place, a newline when the batch is done', () => {
    process.env.TESSERA_STDERR_TTY = '1';
    const out = captureStderr();
    const show = kernelProgress();
    show(compile(0, 2));
    show(compile(2, 2));
    expect(out.length).toBe(3);
    expect(out[0]).toMatch(/^\rcompiling kernels \[\.{30}\] 0\/2  \d+\.\d s elapsed$/);
    expect(out[1]).toMatch(/^\rcompiling kernels \[#{30}\] 2\/2  \d+\.\d s elapsed$/);
    expect(out[2]).toBe('\n');
  });

  it('--quiet: nothing', () => {
    setQuiet(true);
    const out = captureStderr();
    const show = kernelProgress();
    for (const e of [compile(0, 1), compile(1, 1), tune(0, false)]) show(e);
    expect(out).toEqual([]);
  });

  it('watchAllKernels hears every device, after its device watchers, until unwatched', () => {
    const a = { device: {} as GPUDevice } as Gpu;
    const b = { device: {} as GPUDevice } as Gpu;
    const heard: string[] = [];
    const stopA = watchKernels(a, (e) => heard.push(`a ${e.type}`));
    const stopAll = watchAllKernels((e) => heard.push(`all ${e.type}`));
    emitKernelEvent(a.device, compile(0, 1));
    emitKernelEvent(b.device, tune(0, false));
    stopAll();
    emitKernelEvent(b.device, compile(0, 1));
    stopA();
    expect(heard).toEqual(['a compile', 'all compile', 'all tune']);
    expect(() => watchAllKernels(null as never)).toThrow('watchAllKernels: listener must be a function, got null');
  });
});
