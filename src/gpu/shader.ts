// WGSL sources → preprocessed text, through `wgsl-preprocessor`, strictly.
//
// The package works on tagged templates and wants `${value}` right after `#if`; kernels are
// files, so each `#if NAME` / `#elif NAME` / `#if !NAME` becomes a substitution of the
// declared flag's value. Undeclared flags and any other `#word` are errors (the package would
// pass unknown words through to the WGSL compiler).
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { kernelSources } from '../kernels.gen.js';

/** A kernel variant, flag or override value the kernel does not declare, a WGSL preprocessing error or a compile error; the message names the kernel. */
export class ShaderError extends Error {
  override name = 'ShaderError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_SHADER';
}

/** Live overrides of kernel sources (the browser profiler edits WGSL and recompiles). */
const sourceOverrides = new Map<string, string>();

/**
 * Replace the WGSL of kernel `name` (`kernels/NAME.wgsl`, e.g. 'norm', 'common/wg_sum') for pipelines compiled
 * from now on, or put the shipped source back with `null`. A name no kernel has adds a source of that name
 * (tests and the profiler define kernels of their own). Pipelines are cached per device by variant, not by
 * source: call invalidateKernel(gpu, name) too (for a prelude such as 'common/wg_sum' it drops every kernel that
 * includes it), and drop recorded plans (DiffusionModel.resetPlans and the
 * pipeline's and encoder's equivalents) on a device that already compiled the kernel. Errors in the source surface when a kernel
 * using it is compiled (ShaderError naming the kernel and line).
 */
export function setKernelSource(name: string, source: string | null): void {
  if (source === null) sourceOverrides.delete(name);
  else sourceOverrides.set(name, source);
}

/**
 * The WGSL of kernel `name` as pipelines are built from it: the override from setKernelSource, else the shipped
 * `kernels/NAME.wgsl`. @throws ShaderError `no kernel source kernels/NAME.wgsl` for a name neither has.
 */
export function kernelSource(name: string): string {
  // own keys only: 'constructor' or 'toString' is no kernel
  const s = sourceOverrides.get(name) ?? (Object.hasOwn(kernelSources, name) ? kernelSources[name] : undefined);
  if (s === undefined) throw new ShaderError(`no kernel source kernels/${name}.wgsl`);
  return s;
}

/** Where a line of preprocessed WGSL came from: the file as named to `preprocess` (`kernels/foo.wgsl`) and its 1-based line. */
export interface SourceLine {
  file: string;
  line: number;
}

/** Preprocessed WGSL and its line map: `lines[i]` is the source of output line i + 1 (null: none known). */
export interface MappedSource {
  text: string;
  lines: (SourceLine | null)[];
}

// Line marks: each source line is prefixed with MARK n END before preprocessing and the marks are
// read off the output's lines and removed. The package moves text across lines (the whitespace
// after `#else`/`#endif`, the rest of an `#if` line), so counting lines cannot map them; a mark
// travels with its line's text. Private-use characters: no WGSL token or directive contains them.
const MARK = '\uE000';
const END = '\uE001';
const LEADING_MARK = /^\uE000(\d+)\uE001/;
const ANY_MARK = /\uE000(\d+)\uE001/g;

/**
 * Preprocess `source` (named `file` in messages) with boolean `flags`.
 * @throws ShaderError `FILE:LINE: …` for an undeclared flag, anything but one flag name (NAME or !NAME)
 *   after `#if`/`#elif` or text after `#else`/`#endif` (a `//` comment may follow either), an unknown
 *   `#word`, or unbalanced directives (#endif without #if, #elif after #else, #if without #endif).
 */
export function preprocess(file: string, source: string, flags: Record<string, boolean>): string {
  return expand(file, source, flags);
}

/**
 * `preprocess` with a line map from output lines to lines of `source` (named `file`), so that
 * compiler messages can name the line the user wrote. The text is exactly `preprocess`'s. A line
 * that does not start at a source line's start (text after a directive on the directive's line)
 * maps to the first source line whose text it holds, or null; a source holding the mark
 * characters U+E000/U+E001 gets an all-null map.
 */
export function preprocessMapped(file: string, source: string, flags: Record<string, boolean>): MappedSource {
  if (source.includes(MARK) || source.includes(END)) {
    const text = expand(file, source, flags);
    return { text, lines: text.split('\n').map(() => null) };
  }
  const marked = source.split('\n').map((l, i) => `${MARK}${i + 1}${END}${l}`).join('\n');
  const out = expand(file, marked, flags).split('\n');
  const lines = out.map((l): SourceLine | null => {
    const m = LEADING_MARK.exec(l) ?? new RegExp(ANY_MARK.source).exec(l);
    return m ? { file, line: Number(m[1]) } : null;
  });
  return { text: out.map((l) => l.replace(ANY_MARK, '')).join('\n'), lines };
}

/** `file:LINE:COL: message` of a compiler message at `lineNum`:`linePos` (1-based) of WGSL whose line map is `lines`; `where:lineNum:linePos: message` when the line has no source (or lineNum is 0: `where: message`). */
export function sourceMessage(where: string, lines: readonly (SourceLine | null)[], m: Pick<GPUCompilationMessage, 'lineNum' | 'linePos' | 'message'>): string {
  const at = m.lineNum > 0 ? lines[m.lineNum - 1] : undefined;
  if (at) return `${at.file}:${at.line}:${m.linePos}: ${m.message}`;
  return m.lineNum > 0 ? `${where}:${m.lineNum}:${m.linePos}: ${m.message}` : `${where}: ${m.message}`;
}

// `#else`/`#endif` and what follows on their line: the package passes that text through into
// whichever branch is open, away from its line, so the compiler's message about it would land on
// another line (or in a prelude). Only a `//` comment may follow. Marks (preprocessMapped) are not text.
const AFTER_ELSE_ENDIF = /#(else|endif)\b([^\n]*)/g;

// `#if` / `#elif` and the rest of their line: one flag name, negated or not, then at most a comment.
// The package reads only the value right after the keyword and passes the rest into the branch
// (`#if F16 && X` behaved as `#if F16`, ` && X` reaching the compiler).
const IF_LINE = /#(if|elif)\b([^\n]*)/g;
const ONE_FLAG = /^[ \t]+!?[A-Za-z_]\w*[ \t]*(\/\/.*)?$/;
const DIRECTIVES = new Set(['if', 'elif', 'else', 'endif']);

function expand(file: string, source: string, flags: Record<string, boolean>): string {
  const lineOf = (index: number) => source.slice(0, index).split('\n').length;
  for (const m of source.matchAll(/#([A-Za-z_]\w*)/g)) {
    if (!DIRECTIVES.has(m[1]!)) throw new ShaderError(`${file}:${lineOf(m.index!)}: unexpected directive #${m[1]} (only #if/#elif/#else/#endif with declared flags are allowed)`);
  }
  for (const m of source.matchAll(AFTER_ELSE_ENDIF)) {
    const rest = m[2]!.replace(ANY_MARK, '').trim();
    if (rest === '' || rest.startsWith('//')) continue;
    throw new ShaderError(`${file}:${lineOf(m.index!)}: unexpected text after #${m[1]}: '${rest}' (put it on a line of its own; only a // comment may follow #${m[1]})`);
  }
  for (const m of source.matchAll(IF_LINE)) {
    const rest = m[2]!.replace(ANY_MARK, '');
    if (ONE_FLAG.test(rest)) continue;
    const what = rest.trim() === '' ? `#${m[1]} without a flag name` : `'#${m[1]}${rest.trimEnd()}'`;
    throw new ShaderError(`${file}:${lineOf(m.index!)}: ${what}: #${m[1]} takes a single flag name, NAME or !NAME (no operators or parentheses; only a // comment may follow); nest #if lines to combine flags`);
  }
  checkNesting(file, source, lineOf);
  const strings: string[] = [];
  const values: boolean[] = [];
  let last = 0;
  for (const m of source.matchAll(/#(if|elif)[ \t]+(!?)([A-Za-z_]\w*)/g)) {
    const [, kw, not, flag] = m;
    if (!(flag! in flags)) {
      throw new ShaderError(`${file}:${lineOf(m.index!)}: #${kw} ${flag} is not a declared flag (declared: ${Object.keys(flags).join(', ') || 'none'})`);
    }
    strings.push(source.slice(last, m.index) + `#${kw} `);
    values.push(not ? !flags[flag!] : !!flags[flag!]);
    last = m.index! + m[0].length;
  }
  strings.push(source.slice(last));
  const tsa = Object.assign(strings.slice(), { raw: strings.slice() }) as unknown as TemplateStringsArray;
  let out: string;
  try {
    out = wgsl(tsa, ...values);
  } catch (e) {
    // checkNesting finds what the package refuses first; its own words, spelt right, in case
    throw new ShaderError(`${file}: ${(e as Error).message.replace('preceeded', 'preceded')}`);
  }
  const stray = /#[A-Za-z_]\w*/.exec(out);
  if (stray) {
    throw new ShaderError(`${file}: unexpected directive ${stray[0]} (only #if/#elif/#else/#endif with declared flags are allowed)`);
  }
  return out;
}

/** #elif/#else/#endif each inside an open #if (no #elif or second #else after #else), every #if closed; ShaderError `FILE:LINE: …` otherwise. */
function checkNesting(file: string, source: string, lineOf: (index: number) => number): void {
  // source offsets; lines are counted only for a message
  const open: { at: number; elseAt: number }[] = [];
  for (const m of source.matchAll(/#(if|elif|else|endif)\b/g)) {
    const kw = m[1]!;
    if (kw === 'if') {
      open.push({ at: m.index!, elseAt: -1 });
      continue;
    }
    const top = open[open.length - 1];
    if (!top) throw new ShaderError(`${file}:${lineOf(m.index!)}: #${kw} without an open #if`);
    if (kw === 'endif') open.pop();
    else if (top.elseAt >= 0) throw new ShaderError(`${file}:${lineOf(m.index!)}: #${kw} after the #else of line ${lineOf(top.elseAt)} (the #if of line ${lineOf(top.at)} has its #else already)`);
    else if (kw === 'else') top.elseAt = m.index!;
  }
  const unclosed = open[open.length - 1];
  if (unclosed) throw new ShaderError(`${file}:${lineOf(unclosed.at)}: #if without #endif`);
}
