// For tests of the CLI's progress lines (src/cli/progress.ts): capture what is written to stderr, and put
// back the terminal state (process.stderr.isTTY, TESSERA_STDERR_TTY) a test changed.
import { vi } from 'vitest';

/** Every string written to process.stderr from now until vi.restoreAllMocks(). */
export function captureStderr(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (lines.push(String(s)), true));
  return lines;
}

/** Saves stderr's terminal state now; the returned function restores it (call it in afterEach). */
export function saveTerminalState(): () => void {
  const tty = process.env.TESSERA_STDERR_TTY;
  const isTTY = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
  return () => {
    if (isTTY) Object.defineProperty(process.stderr, 'isTTY', isTTY);
    else delete (process.stderr as { isTTY?: boolean }).isTTY;
    if (tty === undefined) delete process.env.TESSERA_STDERR_TTY;
    else process.env.TESSERA_STDERR_TTY = tty;
  };
}
