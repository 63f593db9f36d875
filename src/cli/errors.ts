// One clear line per error; the stack only with --debug.
export function errorLine(e: unknown, debug: boolean): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const kind = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
  return `tessera: error: ${kind}${err.message}` + (debug && err.stack ? `\n${err.stack}` : '');
}
