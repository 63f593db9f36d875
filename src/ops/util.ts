// Small shared checks for op wrappers.
import { shapeStr, type Tensor } from '../gpu/tensor.js';

/** Last dim = cols, the rest folded into rows. */
export function rowsCols(t: Tensor, what: string): { rows: number; cols: number } {
  if (t.shape.length < 1) throw new Error(`${what}: needs at least 1 dim, got ${shapeStr(t.shape)}`);
  const cols = t.shape[t.shape.length - 1]!;
  return { rows: t.size / cols, cols };
}

/** All tensors of one op share a storage dtype (the F16 variant flag). */
export function checkDtypes(op: string, ...ts: (Tensor | undefined)[]): void {
  const first = ts.find(Boolean)!;
  for (const t of ts) {
    if (t && t.dtype !== first.dtype) throw new Error(`${op}: ${t.label} is ${t.dtype} but ${first.label} is ${first.dtype}`);
  }
}

export const dtypeFlags = (t: Tensor): { F16: boolean } => ({ F16: t.dtype === 'f16' });

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

