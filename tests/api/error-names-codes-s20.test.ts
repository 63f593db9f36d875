// Every public error class has its own `name` and a stable `code` (session 20, user finding 3): an app that
// switches on e.name / e.code (what survives two copies of the package, a worker bundle or structured clone)
// can tell DtypeUnsupportedError from InputError and StepCountError from SchedulerConfigError; subclasses stay
// `instanceof` their parent. InputError's `option` names the option at fault where the check sets it.
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { InputError, inputErrorAt } from '../../src/model/input-error.js';
import { checkOptionNames } from '../../src/model/options.js';
import { errorLine } from '../../src/cli/errors.js';
import { resolveScheduler } from '../../src/sampler/generate.js';

type AnyError = new (...args: unknown[]) => Error & { code: string };
const classes = Object.entries(api).filter(([k, v]) => k.endsWith('Error') && typeof v === 'function') as [string, AnyError][];
const make = (C: AnyError): Error & { code: string } => new C('m', 'lost', 'w');

describe('public error classes', () => {
  it('each exported class: name = its class name, a code ERR_…, no two codes alike', () => {
    expect(classes.length).toBeGreaterThanOrEqual(20);
    const codes = new Map<string, string>();
    for (const [k, C] of classes) {
      const e = make(C);
      expect(e.name, k).toBe(k);
      expect(e.code, k).toMatch(/^ERR_[A-Z_]+$/);
      expect(codes.get(e.code), `${k} shares ${e.code}`).toBeUndefined();
      codes.set(e.code, k);
    }
  });

  it('subclasses keep their parent for instanceof and have their own name and code', () => {
    const d = new api.DtypeUnsupportedError("dtype: 'f16' needs …");
    expect(d).toBeInstanceOf(api.InputError);
    expect([d.name, d.code, d.option]).toEqual(['DtypeUnsupportedError', 'ERR_DTYPE_UNSUPPORTED', 'dtype']);
    const r = new api.RopeLimitError('m', ['height']);
    expect(r).toBeInstanceOf(api.InputError);
    expect([r.name, r.code]).toEqual(['RopeLimitError', 'ERR_ROPE_LIMIT']);
    const s = new api.StepCountError('num_inference_steps 5000 …', 5000, 1000);
    expect(s).toBeInstanceOf(api.SchedulerConfigError);
    expect([s.name, s.code]).toEqual(['StepCountError', 'ERR_STEP_COUNT']);
    // FileAccessError / OutputError: the class's code; the errno in `errno`
    const f = new api.FileAccessError('m/x', 'is a folder, not a file', 'EISDIR');
    expect([f.code, f.errno]).toEqual(['ERR_FILE_ACCESS', 'EISDIR']);
    expect(new api.OutputError('cannot write o', 'ENOSPC').errno).toBe('ENOSPC');
  });

  it('inputErrorAt leads the message with where, keeping the class and option', () => {
    const d = inputErrorAt('loadModel(m)', new api.DtypeUnsupportedError('dtype: no'));
    expect(d).toBeInstanceOf(api.DtypeUnsupportedError);
    expect((d as Error).message).toBe('loadModel(m): dtype: no');
    const p = inputErrorAt('f.safetensors', new InputError('latents: bad', { option: 'latents' })) as InputError;
    expect([p.constructor, p.message, p.option]).toEqual([InputError, 'f.safetensors: latents: bad', 'latents']);
  });

  it('option names the option in the common checks', () => {
    const at = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as InputError).option;
      }
    };
    expect(at(() => checkOptionNames({ steps: 4 }, ['num_inference_steps'], 'generate', '{}'))).toBe('steps');
    expect(at(() => resolveScheduler({ scheduler: 'unipc', shift: -1 }))).toBe('shift');
    expect(at(() => resolveScheduler({}))).toBe('scheduler');
  });

  it("the command line prints a subclass under its parent's kind (the README table's), its own name in the library", () => {
    expect(errorLine(new api.RopeLimitError('hidden_states: too long', ['frames']), false)).toBe('tessera: error: InputError: hidden_states: too long');
    expect(errorLine(new api.StepCountError('num_inference_steps 9 …', 9), false)).toBe('tessera: error: SchedulerConfigError: num_inference_steps 9 …');
    expect(errorLine(new api.LimitError('too big'), false)).toBe('tessera: error: LimitError: too big');
  });
});
