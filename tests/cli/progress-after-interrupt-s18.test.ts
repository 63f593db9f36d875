// After an interrupt (Ctrl-C during a decode on a terminal), the run still going on while its outputs are discarded
// draws no progress: no fresh "compiling kernels [....] 0/10" bar above the "stopped" line (session 18's fresh user).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { endProgressLine, kernelProgress, progressBar, stopProgress } from '../../src/cli/progress.js';
import { captureStderr, saveTerminalState } from '../helpers/stderr.js';

describe('progress after an interrupt', () => {
  const restoreTerminal = saveTerminalState();
  afterEach(() => {
    vi.restoreAllMocks();
    restoreTerminal();
  });

  it('on a terminal: bars and kernel lines draw until stopProgress(), nothing after it; the bar mid-line is ended once', () => {
    process.env.TESSERA_STDERR_TTY = '1';
    const out = captureStderr();
    const decoding = progressBar('decoding frames');
    const kernels = kernelProgress();
    decoding.update(4, 9);
    expect(out).toEqual([expect.stringMatching(/^\rdecoding frames \[#+\.+\] 4\/9 {2}\d+\.\d s elapsed$/)]);
    out.length = 0;
    stopProgress(); // main.ts's signal handler, at the signal
    kernels({ type: 'compile', done: 0, total: 10 });
    kernels({ type: 'compile', done: 10, total: 10 });
    kernels({ type: 'tune', family: 'gemm', bucket: 'f32 M8 N8 K8', candidates: ['a', 'b'], done: 0, total: 2, where: null, explicit: false });
    decoding.update(8, 9);
    progressBar('denoising').update(1, 2);
    expect(out).toEqual([]);
    endProgressLine(); // before the stopped line: the line of the bar drawn before the signal ends
    expect(out).toEqual(['\n']);
  });

  it("off a terminal: no plain progress line after stopProgress() either", () => {
    delete process.env.TESSERA_STDERR_TTY;
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    const out = captureStderr();
    stopProgress();
    progressBar('decoding frames').update(1, 9);
    kernelProgress()({ type: 'compile', done: 3, total: 3 });
    expect(out).toEqual([]);
  });
});
