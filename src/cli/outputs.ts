// Checks that make a command fail before any work: output paths that cannot be written, the
// GPU memory budget (--max-memory or TESSERA_MAX_GPU_MEMORY), and the test-only device-loss hook.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Gpu } from '../gpu/device.js';
import { readInputs, type InputTensor } from '../io/inputs.js';
import { writeOutputAtomic } from '../io/node-write.js';
import { LimitError, parseBytes } from '../model/memory.js';
import type { TensorData } from '../model/model.js';
import { NumericsError } from '../sampler/generate.js';
import { UsageError, type FlagSpec, type Parsed } from './args.js';
import { checkPathFlags } from './paths.js';

export const MAX_MEMORY_FLAG: FlagSpec = {
  type: 'string',
  arg: 'SIZE',
  help: 'GPU memory budget for weights + activations + workspace, e.g. 2GiB; runs that need more are refused before allocating (default: $TESSERA_MAX_GPU_MEMORY, else only the adapter limits)',
};

/** The budget from --max-memory, else TESSERA_MAX_GPU_MEMORY, else none. */
export function maxMemory(p: Parsed): number | undefined {
  const flag = p['max-memory'] as string | undefined;
  const env = process.env['TESSERA_MAX_GPU_MEMORY'];
  const v = flag ?? (env === '' ? undefined : env);
  if (v === undefined) return undefined;
  try {
    return parseBytes(v);
  } catch (e) {
    if (!(e instanceof LimitError)) throw e;
    throw new UsageError(`${flag !== undefined ? '--max-memory' : 'TESSERA_MAX_GPU_MEMORY'}: ${e.message}`);
  }
}

/** The folder of an output file must exist, and the path must not be a folder: checked before any work. */
export function checkOutputPath(flag: string, path: string | undefined): void {
  if (path === undefined) return;
  if (path === '') throw new UsageError(`--${flag} needs a file name`);
  const dir = dirname(resolve(path));
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e;
    throw new UsageError(`--${flag} ${path}: the folder ${dir} does not exist (a part of it is a file)`);
  }
  if (!st) throw new UsageError(`--${flag} ${path}: the folder ${dir} does not exist`);
  if (!st.isDirectory()) throw new UsageError(`--${flag} ${path}: ${dir} is not a folder`);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--${flag} ${path}: is a folder, expected a file name`);
}

/**
 * The prologue of the file-in, file-out commands (forward, decode, encode, generate), all before
 * any GPU work: --out checked (unless `outChecked`: generate's media plan checks every output
 * itself), every path flag checked (--inputs, --model, --vae, --pipeline), then the --inputs
 * file read; an empty map without --inputs.
 * @throws UsageError naming the flag; InputError / SafetensorsError for an unreadable inputs file.
 */
export async function commandInputs(p: Parsed, o: { outChecked?: boolean } = {}): Promise<Map<string, InputTensor>> {
  if (!o.outChecked) checkOutputPath('out', p.out as string);
  checkPathFlags(p);
  return p.inputs ? readInputs(p.inputs as string) : new Map();
}

/**
 * Writes `sample` (f32, diffusers' layout) to `out` atomically as the tensor "sample", after
 * refusing a non-finite value: NumericsError `<producer> produced a non-finite value (v) at flat
 * index i of "sample"`, then `; <where()>` (the layer, when the caller can locate it) and the f16
 * hint when `f16`. Prints `wrote OUT: sample [shape] (<about>)` to stderr.
 */
export async function writeSample(out: string, sample: TensorData, o: { producer: string; about: string; f16: boolean; where?: () => Promise<string> }): Promise<void> {
  const i = sample.data.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) {
    const where = o.where ? `; ${await o.where()}` : '';
    throw new NumericsError(`${o.producer} produced a non-finite value (${sample.data[i]}) at flat index ${i} of "sample"${where}${o.f16 ? ' (f16 overflow? try --dtype f32)' : ''}`);
  }
  await writeOutputAtomic(out, [{ name: 'sample', shape: sample.shape, data: sample.data }]);
  console.error(`wrote ${out}: sample [${sample.shape.join(',')}] (${o.about})`);
}

/**
 * Test hook (documented in README "Errors"): TESSERA_TEST_LOSE_DEVICE_AT_STEP=N destroys the
 * GPU device after denoising step N, to prove a lost device ends the command cleanly.
 */
export function deviceLossHook(gpu: Gpu): (step: number) => void {
  const at = Number(process.env['TESSERA_TEST_LOSE_DEVICE_AT_STEP'] ?? NaN);
  return (step) => {
    if (step === at) gpu.device.destroy();
  };
}
