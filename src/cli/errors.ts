// One clear line per error (the stack only with --debug), and the library's refusals that are the command
// line's usage (a size, a step count or a dtype the flags gave) as UsageError: exit 2, main.ts.
import { DtypeUnsupportedError, InputError, RopeLimitError } from '../model/model.js';
import { SchedulerConfigError, StepCountError } from '../sampler/config.js';
import { UsageError } from './args.js';

/**
 * `tessera: error: KIND: message`. KIND is the README error table's: a library subclass with a name of its own
 * (DtypeUnsupportedError, RopeLimitError, StepCountError: for a switch in an app) prints as its parent's kind, the
 * one the table and the exit status describe.
 */
export function errorLine(e: unknown, debug: boolean): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const name = err instanceof InputError ? 'InputError' : err instanceof SchedulerConfigError ? 'SchedulerConfigError' : err.name;
  const kind = name && name !== 'Error' ? `${name}: ` : '';
  return `tessera: error: ${kind}${flagNames(err.message)}` + (debug && err.stack ? `\n${err.stack}` : '');
}

/**
 * The library's messages name its options (`maxMemory`, `dtype: 'f16'`); on the command line the
 * same choices are flags, so the CLI's users read the flag names. A larger budget is suggested one way in
 * the library (model/memory.ts largerBudget: `a larger maxMemory budget (N bytes or more)`, or without N)
 * and one way here: `give --max-memory N or more` (`a larger --max-memory budget` without N). A variant-only
 * folder's `load it with loadModel(dir, { variant: 'fp16' })` (io/model-folder.ts) is `pass --variant fp16`
 * here, and a Pipeline's fit refusal's `loading the pipeline with dtype 'f16'` is `--dtype f16`; a pipeline folder given as a component's (`load it with loadPipeline, …`, `(loadVae: DIR/vae)`) names
 * --pipeline and --vae.
 */
export function flagNames(message: string): string {
  return message
    .replace(/\(maxMemory\)/g, '(--max-memory / TESSERA_MAX_GPU_MEMORY)')
    .replace(/a larger maxMemory budget \((\d+) bytes or more\)/g, 'give --max-memory $1 or more')
    .replace(/a larger maxMemory budget/g, 'a larger --max-memory budget')
    .replace(/the VAE's maxMemory budget/g, 'the --max-memory budget')
    .replace(/\b(the|its) maxMemory budget/g, '$1 --max-memory budget')
    .replace(/a shorter max_sequence_length/g, 'a shorter --max-sequence-length')
    .replace(/more than max_sequence_length (\d+)/g, 'more than --max-sequence-length $1')
    // a prompt note (Umt5TextEncoder.promptNotes) names the generate() option; the CLI's user gave the flag
    .replace(/^note: prompt\b/, 'note: --prompt')
    .replace(/^note: negative_prompt\b/, 'note: --negative-prompt')
    .replace(/dtype: '(f16|f32)'/g, '--dtype $1')
    .replace(/loading the pipeline with dtype '(f16|f32)'/g, '--dtype $1')
    .replace(/^shift: a number > 0/, '--shift: a number > 0')
    .replace(/; for a single transformer folder use loadModel\)/, '; for a single transformer folder give --model DIR)')
    .replace(/load it with \w+\((?:dir|folders), \{ variant: '([A-Za-z0-9_-]+)' \}\)/g, 'pass --variant $1')
    .replace(/: load it with loadPipeline, or give its component folder, /, ': give it as --pipeline DIR, or give its component folder, ')
    .replace(/ \(loadVae: ([^)]*)\)$/, ' (--vae $1)');
}

/**
 * A rope_max_seq_len refusal (RopeLimitError) of a size the command line gave (--frames/--height/--width, not
 * an inputs file's latents) is the flags' problem, as every other size refusal: a UsageError (exit 2) naming the
 * flags of the axes over the limit, its message kept (it says what fits). Any other error as it is.
 */
export function ropeAsUsage(e: unknown): unknown {
  if (!(e instanceof RopeLimitError)) return e;
  return new UsageError(`${e.axes.map((a) => `--${a}`).join(' and ')}: ${e.message}`, { cause: e });
}

/**
 * The library's refusal of dtype 'f16' on an adapter without shader-f16 (model.ts checkDtypeOnAdapter, from every
 * loader) came from --dtype f16 on the command line: a UsageError (exit 2) in the flag's words, as bench and tune
 * refuse it (they check the adapter themselves). Any other error as it is.
 */
export function dtypeAsUsage(e: unknown): unknown {
  if (!(e instanceof DtypeUnsupportedError)) return e;
  return new UsageError(flagNames(e.message), { cause: e });
}

/** A StepCountError (num_inference_steps) as the UsageError of --steps, which gave the count (generate, demo); any other error as it is. */
export function stepsAsUsage(e: unknown): unknown {
  return e instanceof StepCountError ? new UsageError(e.message.replace(/^num_inference_steps\b/, '--steps'), { cause: e }) : e;
}

/** A library warning line (loadPipeline's onWarning: ignored keys, a prompt cut at max_sequence_length or empty) on stderr, in flag words (`note: --prompt has …`). */
export const warnInFlagWords = (line: string): void => console.error(flagNames(line));
