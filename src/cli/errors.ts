// One clear line per error; the stack only with --debug.
export function errorLine(e: unknown, debug: boolean): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const kind = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
  return `tessera: error: ${kind}${flagNames(err.message)}` + (debug && err.stack ? `\n${err.stack}` : '');
}

/**
 * The library's messages name its options (`maxMemory`, `dtype: 'f16'`); on the command line the
 * same choices are flags, so the CLI's users read the flag names.
 */
export function flagNames(message: string): string {
  return message
    .replace(/\(maxMemory\)/g, '(--max-memory / TESSERA_MAX_GPU_MEMORY)')
    .replace(/a larger maxMemory budget/g, 'a larger --max-memory budget')
    .replace(/the VAE's maxMemory budget/g, 'the --max-memory budget')
    .replace(/\b(the|its) maxMemory budget/g, '$1 --max-memory budget')
    .replace(/load it with maxMemory (\d+) bytes or more/g, 'give --max-memory $1 or more')
    .replace(/a shorter max_sequence_length/g, 'a shorter --max-sequence-length')
    .replace(/dtype: '(f16|f32)'/g, '--dtype $1')
    .replace(/^shift: a number > 0/, '--shift: a number > 0')
    .replace(/; for a single transformer folder use loadModel\)/, '; for a single transformer folder give --model DIR)');
}
