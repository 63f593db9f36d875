import { vi } from 'vitest';

/**
 * Saves what a test file may change in its process and returns the function that puts it back: the
 * environment (tests set TESSERA_TUNE, TESSERA_STDERR_TTY, …; keys added since are removed), the
 * working directory, process.exitCode, and the globals and variables replaced by vi.stubGlobal /
 * vi.stubEnv (fetch, navigator). Used between the unit files that share a worker (shared-worker.ts).
 */
export function saveProcessState(): () => void {
  const env = { ...process.env };
  const cwd = process.cwd();
  const exitCode = process.exitCode;
  return () => {
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
    for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
    Object.assign(process.env, env);
    if (process.cwd() !== cwd) process.chdir(cwd);
    process.exitCode = exitCode;
  };
}
