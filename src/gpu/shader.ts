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
}

/** Live overrides of kernel sources (the browser profiler edits WGSL and recompiles). */
const sourceOverrides = new Map<string, string>();

export function setKernelSource(name: string, source: string | null): void {
  if (source === null) sourceOverrides.delete(name);
  else sourceOverrides.set(name, source);
}

export function kernelSource(name: string): string {
  const s = sourceOverrides.get(name) ?? kernelSources[name];
  if (s === undefined) throw new ShaderError(`no kernel source kernels/${name}.wgsl`);
  return s;
}

/** Preprocess `source` (named `file` in messages) with boolean `flags`. */
export function preprocess(file: string, source: string, flags: Record<string, boolean>): string {
  const strings: string[] = [];
  const values: boolean[] = [];
  let last = 0;
  for (const m of source.matchAll(/#(if|elif)[ \t]+(!?)([A-Za-z_]\w*)/g)) {
    const [, kw, not, flag] = m;
    if (!(flag! in flags)) {
      const line = source.slice(0, m.index).split('\n').length;
      throw new ShaderError(`${file}:${line}: #${kw} ${flag} is not a declared flag (declared: ${Object.keys(flags).join(', ') || 'none'})`);
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
    throw new ShaderError(`${file}: ${(e as Error).message}`);
  }
  const stray = /#[A-Za-z_]\w*/.exec(out);
  if (stray) {
    throw new ShaderError(`${file}: unexpected directive ${stray[0]} (only #if/#elif/#else/#endif with declared flags are allowed)`);
  }
  return out;
}
