// One clear line per error (the stack only with --debug), its kind and exit status from one table (CLI_ERRORS),
// and the library's refusals that are the command line's usage (a size, a step count or a dtype the flags gave) as
// UsageError: exit 2, main.ts.
import { RopeLimitError } from '../model/model.js';
import { StepCountError } from '../sampler/config.js';
import { UsageError } from './args.js';

/** How the command line reports an error class: the README error table's kind it prints, and the exit status. */
export interface CliErrorKind {
  kind: string;
  exit: 1 | 2;
}

const own = (kind: string): CliErrorKind => ({ kind, exit: 1 });
const usage: CliErrorKind = { kind: 'UsageError', exit: 2 };

/**
 * Every error class tessera throws, by its `name` (what survives a second copy of the package or a bundle), → the kind
 * `tessera: error: KIND: …` prints and the exit status: the README's error table ("Limits and errors"), one row per
 * kind (tests/cli/error-table-s21.test.ts holds the two to each other and to every exported class). A library
 * subclass with a name of its own (RopeLimitError, StepCountError: for a switch in an app) prints as its parent's
 * kind; the caller's usage (a bad TESSERA_TUNE value, --dtype f16 the adapter cannot store) is a UsageError, exit 2.
 * Classes the command line never meets (DisposedError, ReentrantCallError: calls on a library object) print as
 * themselves. A name not here (TypeError, a DOMException's AbortError) prints as itself, exit 1.
 */
export const CLI_ERRORS: Readonly<Record<string, CliErrorKind>> = {
  UsageError: usage,
  TuneEnvError: usage,
  DtypeUnsupportedError: usage,
  SafetensorsError: own('SafetensorsError'),
  ModelFolderError: own('ModelFolderError'),
  ConfigError: own('ConfigError'),
  WeightError: own('WeightError'),
  InputError: own('InputError'),
  RopeLimitError: own('InputError'),
  LimitError: own('LimitError'),
  SchedulerConfigError: own('SchedulerConfigError'),
  StepCountError: own('SchedulerConfigError'),
  SchedulerMathError: own('SchedulerConfigError'),
  RepeatedStartError: own('SchedulerConfigError'),
  GpuError: own('GpuError'),
  NumericsError: own('NumericsError'),
  ShaderError: own('ShaderError'),
  GpuUnavailableError: own('GpuUnavailableError'),
  WrongResultError: own('WrongResultError'),
  PipelineError: own('PipelineError'),
  TokenizerError: own('TokenizerError'),
  TextEncoderError: own('TextEncoderError'),
  FileAccessError: own('FileAccessError'),
  HtmlAnswerError: own('HtmlAnswerError'),
  NetworkError: own('NetworkError'),
  OutputError: own('OutputError'),
  EncoderError: own('EncoderError'),
  DisposedError: own('DisposedError'),
  ReentrantCallError: own('ReentrantCallError'),
};

/** CLI_ERRORS' entry of `e` (by name), undefined for an error tessera does not define. */
const entryOf = (e: Error): CliErrorKind | undefined => (Object.hasOwn(CLI_ERRORS, e.name) ? CLI_ERRORS[e.name] : undefined);

/** `tessera: error: KIND: message`, KIND from CLI_ERRORS (else the error's own name); the stack too with `debug`. */
export function errorLine(e: unknown, debug: boolean): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const name = entryOf(err)?.kind ?? err.name;
  const kind = name && name !== 'Error' ? `${name}: ` : '';
  return `tessera: error: ${kind}${flagNames(err.message)}` + (debug && err.stack ? `\n${err.stack}` : '');
}

/** The exit status of a command that failed with `e`: CLI_ERRORS' (2 for the caller's usage), else 1. */
export function exitStatus(e: unknown): 1 | 2 {
  return (e instanceof Error && entryOf(e)?.exit) || 1;
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
    // a component folder given for another's (src/io/component-kind.ts): the flags that take it
    .replace(/ \(or load this component alone with loadModel\)$/, ' (or give this folder as --model DIR)')
    .replace(/ \(or load this component alone with loadVae\)$/, ' (or give this folder to tessera decode as --vae DIR)')
    .replace(/ \(or load this component alone with loadTextEncoder\)$/, '')
    .replace(/, not a diffusers model's: load that folder with loadTextEncoder$/, ', not a diffusers model\'s: tessera encode reads it from the pipeline folder above it (--pipeline DIR)')
    .replace(/: load that folder with loadVae, and give loadModel the pipeline's transformer\/ folder$/, ": that folder goes to tessera decode as --vae DIR; give --model the pipeline's transformer/ folder")
    .replace(/: load that folder with loadTextEncoder, and give loadModel the pipeline's transformer\/ folder$/, ": tessera encode reads it from the pipeline folder above it (--pipeline DIR); give --model the pipeline's transformer/ folder")
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

/** A StepCountError (num_inference_steps) as the UsageError of --steps, which gave the count (generate, demo); any other error as it is. */
export function stepsAsUsage(e: unknown): unknown {
  return e instanceof StepCountError ? new UsageError(e.message.replace(/^num_inference_steps\b/, '--steps'), { cause: e }) : e;
}

/** A library warning line (loadPipeline's onWarning: ignored keys, a prompt cut at max_sequence_length or empty) on stderr, in flag words (`note: --prompt has …`). */
export const warnInFlagWords = (line: string): void => console.error(flagNames(line));
