// A strict flag parser: every subcommand declares its flags; unknown flags, repeated flags and bad
// values are errors (an unknown one names the valid one it is close to, else lists them all). `--help` prints the declaration.
import { parseDecimal } from '../decimal.js';
import { seedProblem } from '../random.js';
import { closestName, closestNames, meantText } from '../closest-name.js';

export class UsageError extends Error {
  override name = 'UsageError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_USAGE';
}

/** parseArgs' refusal of a flag the command does not declare (prints as a UsageError); `flag` without the dashes. */
export class UnknownFlagError extends UsageError {
  // the CLI prints the name: its users read a usage error, as for any other wrong flag
  override name = 'UsageError';
  override readonly code: string = 'ERR_UNKNOWN_FLAG';
  constructor(
    message: string,
    readonly flag: string,
  ) {
    super(message);
  }
}

export type FlagType = 'string' | 'number' | 'int' | 'bool' | 'choice';

export interface FlagSpec {
  type: FlagType;
  help: string;
  choices?: readonly string[];
  default?: string | number | boolean;
  required?: boolean;
  /** Placeholder in help, e.g. DIR. */
  arg?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage?: string;
  flags: Record<string, FlagSpec>;
  /** Takes --quiet (-q): the commands that print progress (main.ts QUIET_COMMANDS lists them). */
  quiet?: boolean;
  /**
   * Common flags (COMMON) that mean nothing for this command, each with why: they are left out of its
   * --help and its valid-flag list, and refused with `tessera NAME: --FLAG WHY` (UsageError) unless
   * --help is given too (`tune --help --no-tune` prints the help, as `help --no-tune tune` does).
   */
  without?: Partial<Record<CommonFlag, string>>;
  /** Positional arguments allowed (e.g. `bench gemm`). */
  positionals?: { name: string; choices?: readonly string[]; required?: boolean }[];
  /**
   * The sub-command the positionals before a flag select (e.g. `bench gemm`): the name an unknown or
   * repeated flag's message gives (`tessera bench gemm: …`), and the own flags an unknown flag's
   * message lists (gemm's, as `bench gemm --help` shows them). Undefined: `name` and all of `flags`.
   * The common flags are listed either way.
   */
  subcommand?: (positionals: readonly string[]) => { name: string; flags: string[] } | undefined;
  /**
   * Checks of the flags given that come before the refusal of a missing required flag (not with
   * --help): paths that do not exist (outputs.ts pathAndOutChecks), so a user hears of the typo in a
   * folder's name first, not after giving every other flag.
   */
  first?: (p: Parsed) => void;
}

export type Parsed = { _: string[]; [flag: string]: string | number | boolean | undefined | string[] };

/**
 * Flags every command takes. main() acts on them (--no-tune turns autotuning off before the command
 * runs; tune refuses it); they are here so that --help and the unknown-flag message list them with
 * the command's own, from the one table parseArgs accepts flags by.
 */
const COMMON = {
  help: { type: 'bool', help: 'show this help (also -h)' },
  debug: { type: 'bool', help: 'print stack traces on errors' },
  'no-tune': { type: 'bool', help: "no autotuning: the adapter policy's deterministic kernel choices; the tuning cache is neither read nor written (as TESSERA_TUNE=off)" },
} satisfies Record<string, FlagSpec>;

/** The flags every command takes unless its spec's `without` names them. */
export type CommonFlag = Exclude<keyof typeof COMMON, 'help'>;

/** COMMON less the flags `spec.without` names. */
function commonFlags(spec: CommandSpec): Record<string, FlagSpec> {
  return Object.fromEntries(Object.entries(COMMON).filter(([n]) => !spec.without?.[n as CommonFlag]));
}

/** --quiet, for the commands that print progress (spec.quiet); main.ts turns the progress off (progress.ts setQuiet). */
const QUIET: Record<string, FlagSpec> = {
  quiet: { type: 'bool', help: 'no progress or informational lines on stderr (step or frame counts, compiling/tuning kernels, what is being loaded or timed); errors, warnings and the results still print (also -q)' },
};

/** The flags each parse result was given on the command line (defaults filled in later are not). */
const GIVEN = new WeakMap<Parsed, ReadonlySet<string>>();

/** The flags given on the command line for `p` (a parseArgs result), as opposed to defaulted. */
export function givenFlags(p: Parsed): ReadonlySet<string> {
  return GIVEN.get(p) ?? new Set();
}

/** The values a bool flag takes after `=` (`--json=0`); given alone it is on, left out off. */
const BOOL_VALUES: ReadonlyMap<string, boolean> = new Map([['true', true], ['false', false], ['1', true], ['0', false]]);

export function parseArgs(spec: CommandSpec, argv: string[]): Parsed {
  const flags = { ...commonFlags(spec), ...spec.flags, ...(spec.quiet ? QUIET : {}) };
  const out: Parsed = { _: [] as string[] };
  const seen = new Set<string>();
  GIVEN.set(out, seen);
  for (let i = 0; i < argv.length; i++) {
    // -h is --help's short form, everywhere; -q --quiet's where the command takes it (the only short flags),
    // with a value as their long forms take one: -q=0 is --quiet=0, -q=maybe refused as --quiet=maybe is
    const a = shortFlag(argv[i]!, spec);
    if (!a.startsWith('--')) {
      out._.push(a);
      continue;
    }
    let [name, value] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const withoutWhy = spec.without?.[name as CommonFlag];
    const f = flags[name] ?? (withoutWhy ? COMMON[name as CommonFlag] : undefined);
    if (!f) {
      const sub = spec.subcommand?.(out._);
      const listed = sub ? [...Object.keys(commonFlags(spec)), ...sub.flags, ...(spec.quiet ? Object.keys(QUIET) : [])] : Object.keys(flags);
      const near = meantText(nearestNames(name, listed), '--');
      throw new UnknownFlagError(`tessera ${sub?.name ?? spec.name}: unknown flag --${name}${near ? ` (did you mean ${near}?)` : `; valid flags: ${listed.map((k) => `--${k}`).join(', ')}`}`, name);
    }
    // no flag is repeatable: the last value silently winning hides a typo or a pasted-over command line
    if (seen.has(name)) throw new UsageError(`tessera ${spec.subcommand?.(out._)?.name ?? spec.name}: --${name} is given more than once; give it once`);
    seen.add(name);
    if (f.type === 'bool') {
      if (value !== undefined && !BOOL_VALUES.has(value)) throw new UsageError(`--${name} takes no value, or ${[...BOOL_VALUES.keys()].join('/')}, got "${value}"`);
      out[name] = value === undefined ? true : BOOL_VALUES.get(value)!;
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || (value.startsWith('--') && f.type !== 'number')) throw new UsageError(`--${name} needs ${valueKind(f)}`);
      // -q/-h next are flags as --quiet/--help are, not a prompt "-q" (a negative number is no short flag)
      const short = shortFlag(value, spec);
      if (short !== value) throw new UsageError(`--${name} needs ${valueKind(f)}; ${value} is ${short.split('=')[0]}'s short form (write --${name}=${value} to give it as the value)`);
    }
    out[name] = convert(name, f, value);
  }
  // with --help the required flags may be missing, but a positional given must still be valid (`bench bogus --help` is refused)
  const pos = spec.positionals ?? [];
  if (out._.length > pos.length) throw new UsageError(`tessera ${spec.name}: unexpected argument "${out._[pos.length]}"`);
  pos.forEach((p, i) => {
    const v = out._[i];
    if (v !== undefined && p.choices && !p.choices.includes(v)) throw new UsageError(`tessera ${spec.name}: ${unknownName(p.name, v, p.choices, `${p.name} "${v}" is not one of ${p.choices.join(', ')}`)}`);
  });
  if (out.help) return out;
  for (const [name, why] of Object.entries(spec.without ?? {})) if (seen.has(name)) throw new UsageError(`tessera ${spec.name}: --${name} ${why}`);
  spec.first?.(out);
  for (const [name, f] of Object.entries(flags)) {
    if (out[name] === undefined && f.default !== undefined) out[name] = f.default;
    if (out[name] === undefined && f.required) throw new UsageError(`tessera ${spec.name}: missing required flag --${name} (${f.help})`);
  }
  pos.forEach((p, i) => {
    const v = out._[i];
    if (v === undefined && p.required) throw new UsageError(`tessera ${spec.name}: missing ${p.name}${p.choices ? ` (one of ${p.choices.join(', ')})` : ''}`);
  });
  return out;
}

/** `arg` with a short flag (-h, and -q where the command takes --quiet), alone or with `=VALUE`, in its long form. */
function shortFlag(arg: string, spec: CommandSpec): string {
  const [short, value] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
  const long = short === '-h' ? '--help' : short === '-q' && spec.quiet ? '--quiet' : undefined;
  return long === undefined ? arg : value === undefined ? long : `${long}=${value}`;
}

/**
 * The names of `names` (kebab-case: flags without --, commands, benchmarks) that `name` most likely
 * meant, by closestNames (a near spelling, another case or separator style: --negative_prompt, every
 * name holding its words: wan → wan-1.3b, wan-14b, wan-tiny), else the one name of the same letters in another
 * order (--prot for --port, --stpes for --steps: a transposition is two edits, more than a short name's one), or
 * none.
 */
export function nearestNames(name: string, names: readonly string[]): string[] {
  const near = closestNames(name, names); // it takes kebab-case as snake_case
  if (near.length) return near;
  const letters = (s: string) => [...s.replace(/-/g, '_').toLowerCase()].sort().join('');
  const same = names.filter((n) => letters(n) === letters(name));
  return same.length === 1 ? same : [];
}

/** The one name of nearestNames (of several, closestName's shortest), or undefined when none is close. */
export function nearestName(name: string, names: readonly string[]): string | undefined {
  const near = nearestNames(name, names);
  return near.length < 2 ? near[0] : closestName(name, names);
}

/**
 * The refusal of `value`, a `kind` (command, benchmark) not among `names`: `unknown KIND "VALUE" (did
 * you mean NAME?)` (or `one of A, B?`) when one is close (nearestNames), else `otherwise` (the line listing them all).
 */
export function unknownName(kind: string, value: string, names: readonly string[], otherwise: string): string {
  const near = meantText(nearestNames(value, names));
  return near ? `unknown ${kind} "${value}" (did you mean ${near}?)` : otherwise;
}

/** What a string flag's value is, by its help placeholder (FlagSpec.arg); `FILE.ext` is a file path of that extension. */
const ARG_KINDS: Readonly<Record<string, string>> = {
  DIR: 'a folder path',
  FILE: 'a file path',
  TEXT: 'text (in quotes when it has spaces; "" for none)',
  NAME: 'a name',
  SIZE: 'a size',
  CLASS: 'a class name',
  LIST: 'a list',
  'K=V,...': 'knob settings K=V,...',
};

/**
 * What a flag given without its value needed, in the flag's own terms: a string flag's kind from its placeholder
 * and its help's first example (`a file path (.mp4)`, `a name (e.g. fp16)`, `a size (e.g. 2GiB)`); other types
 * `a value (an integer)`, as their conversion refusals word them.
 */
export function valueKind(f: FlagSpec): string {
  if (f.type !== 'string') return `a value (${describe(f)})`;
  const file = /^FILE\.(\w+)$/.exec(f.arg ?? '');
  if (file) return `a file path (.${file[1]})`;
  const kind = ARG_KINDS[f.arg ?? ''];
  if (!kind) return `a value (${f.arg ?? 'a string'})`;
  // a quoted example whole ('default@HEAD;default'), else up to a space, ';' or ')'
  const example = /\be\.g\. ('[^']*'|"[^"]*"|[^\s;)]+)/.exec(f.help)?.[1]!.replace(/,$/, '');
  return example ? `${kind} (e.g. ${example})` : kind;
}

function describe(f: FlagSpec): string {
  if (f.type === 'choice') return `one of ${f.choices!.join(', ')}`;
  return f.type === 'int' ? 'an integer' : f.type === 'number' ? 'a number' : 'a string';
}

function convert(name: string, f: FlagSpec, v: string): string | number {
  switch (f.type) {
    case 'string':
      return v;
    case 'choice':
      if (!f.choices!.includes(v)) {
        const near = meantText(nearestNames(v, f.choices!));
        throw new UsageError(`--${name} must be one of ${f.choices!.join(', ')}, got "${v}"${near ? ` (did you mean ${near}?)` : ''}`);
      }
      return v;
    case 'int': {
      const n = Number(v);
      if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`--${name} must be an integer, got "${v}"`);
      return n;
    }
    case 'number': {
      // decimal only, as the int flags: Number() would also take 0x10, 0b1, 0o7 (a typo read as another value)
      const n = parseDecimal(v);
      if (n === undefined) throw new UsageError(`--${name} must be a finite decimal number (e.g. 4, -0.5, 1e-3), got "${v}"`);
      return n;
    }
    default:
      throw new UsageError(`--${name}: bad flag type`);
  }
}

export function helpText(spec: CommandSpec): string {
  const flags = { ...spec.flags, ...commonFlags(spec), ...(spec.quiet ? QUIET : {}) };
  const lines = [`tessera ${spec.name} — ${spec.summary}`, '', `usage: ${spec.usage ?? `tessera ${spec.name} [flags]`}`, '', 'flags:'];
  for (const [n, f] of Object.entries(flags)) {
    const left = `  --${n}${f.type === 'bool' ? '' : ` ${f.arg ?? (f.type === 'choice' ? f.choices!.join('|') : f.type.toUpperCase())}`}`;
    const extra = [f.required ? 'required' : '', f.default !== undefined ? `default ${f.default}` : ''].filter(Boolean).join(', ');
    lines.push(`${left.padEnd(34)} ${f.help}${extra ? ` (${extra})` : ''}`);
  }
  return lines.join('\n');
}

/** Checks an integer flag is within [min, max], naming the flag. */
export function intInRange(p: Parsed, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = p[name] as number;
  if (v < min || v > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${v}`);
  return v;
}

/**
 * --seed, where given, is a seed of the noise generator: an integer in its 32 bits (src/random.ts; one outside
 * them aliases one inside, −1 is 4294967295). generate, demo and bench (model, vae) take it alike.
 * @throws UsageError `--seed: an integer in 0..4294967295 (…), got V`.
 */
export function checkSeedFlag(p: Parsed): void {
  const why = p.seed === undefined ? undefined : seedProblem(p.seed);
  if (why) throw new UsageError(`--seed: ${why}`);
}

/** A flag that only some modes of a command take: those modes, and its one-line refusal in the others. */
export interface ModeFlag<M extends string> {
  modes: readonly M[];
  refuse: (mode: M) => string;
}

/**
 * Refuses a flag given on the command line (not a default) that `mode` does not take, by `table`
 * (flags not in it apply to every mode): a flag silently ignored in one mode is a run the user did
 * not ask for. @throws UsageError with the flag's refusal.
 */
export function checkModeFlags<M extends string>(p: Parsed, mode: M, table: Record<string, ModeFlag<M>>): void {
  for (const name of givenFlags(p)) {
    const f = table[name];
    if (f && !f.modes.includes(mode)) throw new UsageError(f.refuse(mode));
  }
}
