// Types of scripts/stall-guard.mjs (a plain .mjs: scripts/test.mjs runs before any build).
export function runStallGuarded(
  command: string,
  args: string[],
  o: { stallMs: number; cwd?: string; env?: NodeJS.ProcessEnv; out?: NodeJS.WritableStream; err?: NodeJS.WritableStream },
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stalled: boolean }>;
