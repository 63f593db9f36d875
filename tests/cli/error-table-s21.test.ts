// The command line's error kinds and exit statuses come from one table (src/cli/errors.ts CLI_ERRORS), where an
// instanceof chain mapped subclasses to their parent before: every error class the package exports has an entry,
// the table's kinds are the README error table's rows, and the caller's usage (exit 2) is UsageError's kind alone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as node from '../../src/index.js';
import * as browser from '../../src/index.browser.js';
import * as profiler from '../../src/profiler.js';
import * as profilerNode from '../../src/profiler.node.js';
import { UnknownFlagError, UsageError } from '../../src/cli/args.js';
import { CLI_ERRORS, errorLine, exitStatus } from '../../src/cli/errors.js';
import { SchedulerMathError } from '../../src/sampler/program.js';
import { ROOT } from '../helpers/golden.js';

type AnyError = new (...args: unknown[]) => Error;
/** Every exported class whose instances are Errors, with an instance's name (a class field: it needs an instance). */
function exportedErrors(): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of [node, browser, profiler, profilerNode]) {
    for (const [k, v] of Object.entries(entry)) {
      if (typeof v !== 'function' || !(v.prototype instanceof Error)) continue;
      out.set(k, new (v as AnyError)('m', 'lost', 'w').name);
    }
  }
  return out;
}

/** The kinds of README's error table ("| Kind | When | Example |"), in order. */
function readmeKinds(): string[] {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf('| Kind | When | Example |');
  expect(start).toBeGreaterThan(0);
  const rows = text.slice(start).split('\n\n')[0]!.split('\n').slice(2);
  return rows.map((r) => /^\| `(\w+)` \|/.exec(r)?.[1] ?? `unreadable row: ${r.slice(0, 40)}`);
}

// never met on the command line: calls on a library object after dispose() or from inside its own callback
const LIBRARY_ONLY = ['DisposedError', 'ReentrantCallError'];

describe('CLI_ERRORS: error class → the kind the command line prints and its exit status', () => {
  it('has an entry for every error class the package exports, and for the CLI and scheduler classes behind them', () => {
    const exported = exportedErrors();
    expect(exported.size).toBeGreaterThanOrEqual(20);
    for (const [cls, name] of exported) expect(Object.hasOwn(CLI_ERRORS, name), `${cls} (name ${name})`).toBe(true);
    for (const e of [new UsageError('m'), new UnknownFlagError('m', 'f'), new SchedulerMathError('m', 0), new node.StepCountError('m', 1)]) {
      expect(Object.hasOwn(CLI_ERRORS, e.name), e.name).toBe(true);
    }
  });

  it("its kinds are the README table's rows, each row's kind its own entry's, and only UsageError exits 2", () => {
    const rows = readmeKinds();
    const kinds = new Set(Object.values(CLI_ERRORS).map((k) => k.kind));
    expect([...kinds].filter((k) => !LIBRARY_ONLY.includes(k)).sort()).toEqual([...rows].sort());
    for (const k of rows) expect(CLI_ERRORS[k], k).toEqual({ kind: k, exit: k === 'UsageError' ? 2 : 1 });
    for (const [name, { kind, exit }] of Object.entries(CLI_ERRORS)) expect(exit, name).toBe(kind === 'UsageError' ? 2 : 1);
  });

  it('errorLine and exitStatus read it: a subclass as its parent, the usage errors as UsageError, a stranger as itself', () => {
    const cases: [Error, string, number][] = [
      [new node.RopeLimitError('too long', ['frames']), 'InputError', 1],
      [new node.DtypeUnsupportedError("dtype: 'f16' needs …"), 'UsageError', 2],
      [new node.TuneEnvError('TESSERA_TUNE: …'), 'UsageError', 2],
      [new node.StepCountError('num_inference_steps 9 …', 9), 'SchedulerConfigError', 1],
      [new UsageError('--steps: …'), 'UsageError', 2],
      [new node.HtmlAnswerError('http://h/m/config.json'), 'HtmlAnswerError', 1],
      [new TypeError('x is not a function'), 'TypeError', 1],
    ];
    for (const [e, kind, exit] of cases) {
      expect(errorLine(e, false).split(': ')[2], e.name).toBe(kind);
      expect(exitStatus(e), e.name).toBe(exit);
    }
    expect(errorLine(new Error('plain'), false)).toBe('tessera: error: plain');
    expect(exitStatus('a string')).toBe(1);
  });
});
