// adaLN conditioning vectors: table + per-item embedding (kernels/adaln.wgsl).
import { defineKernel } from '../gpu/kernel.js';
import { grid1D, type Plan } from '../gpu/plan.js';
import { bytesPer, shapeStr, type Tensor } from '../gpu/tensor.js';
import { ceilDiv, checkDtypes, dtypeFlags } from './util.js';

export const adalnKernel = defineKernel({
  name: 'adaln',
  prelude: ['common/dtype'],
  flags: { F16: [false, true], PER_ITEM: [false, true] },
  // one value: the op dispatches ceil(n / 256) workgroups, so any other WG would leave outputs unwritten
  overrides: { WG: [256] },
  bindings: ['uniform', 'read', 'read', 'rw'],
  needs: { F16: 'shader-f16' },
});

export interface AdalnArgs {
  table: Tensor; // [J, D] (any leading 1s)
  emb: Tensor; // [B, J·D] or [B, D] (perItem)
  out: Tensor; // [B, J·D]
  batch: number;
  perItem?: boolean;
  layer?: string;
}

/** out[b, j, d] = table[j, d] + emb[b, (j,) d]. */
export function adaln(plan: Plan, a: AdalnArgs): Tensor {
  const D = a.table.shape[a.table.shape.length - 1]!;
  const J = a.table.size / D;
  checkDtypes('adaln', a.table, a.emb, a.out);
  const embNeed = a.batch * (a.perItem ? D : J * D);
  if (a.emb.size !== embNeed) throw new Error(`adaln: ${a.emb.label} ${shapeStr(a.emb.shape)} has ${a.emb.size} elements, expected ${embNeed} (batch ${a.batch} × ${a.perItem ? D : `${J}×${D}`})`);
  if (a.out.size !== a.batch * J * D) throw new Error(`adaln: out ${a.out.label} has ${a.out.size} elements, expected ${a.batch * J * D}`);
  const n = a.batch * J * D;
  const bp = bytesPer(a.out.dtype);
  plan.record({
    spec: adalnKernel,
    variant: { flags: { ...dtypeFlags(a.out), PER_ITEM: !!a.perItem } },
    uniforms: [['batch', 'u32', a.batch], ['rows', 'u32', J], ['cols', 'u32', D], ['_pad', 'u32', 0]],
    buffers: [a.table, a.emb, a.out],
    workgroups: grid1D(plan.gpu, ceilDiv(n, 256)),
    layer: a.layer,
    shapes: `table${shapeStr(a.table.shape)} emb${shapeStr(a.emb.shape)}`,
    flops: n,
    bytes: (J * D + embNeed + n) * bp,
  });
  return a.out;
}
