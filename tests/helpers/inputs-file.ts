// A safetensors inputs file of zeros with the given tensor shapes, for the CLI's header checks (no data is read).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../src/io/safetensors.js';

/** A tensor of an inputs file: its shape and dtype (F32 by default). */
export type InputsTensor = { shape: number[]; dtype?: 'F32' | 'I64' };

/** Writes DIR/NAME.safetensors holding `tensors` (zeros); returns its path. */
export function zeroInputsFile(dir: string, name: string, tensors: Record<string, InputsTensor>): string {
  const file = join(dir, `${name}.safetensors`);
  const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
  writeFileSync(file, writeSafetensors(Object.entries(tensors).map(([k, t]) => ({ name: k, dtype: t.dtype ?? 'F32', shape: t.shape, data: t.dtype === 'I64' ? new BigInt64Array(n(t.shape)) : new Float32Array(n(t.shape)) }))));
  return file;
}
