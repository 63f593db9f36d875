// Self-attention's q, k and v from one GEMM: the three projections' weights were stacked at
// load (weights.ts qkvGroups / Weights.qkv, diffusers' fuse_projections `to_qkv`), so x is read
// once and one dispatch writes all three. The GEMM writes them as three planes of one scratch
// buffer (ops/gemm.ts `planes`), each a contiguous [.., D] tensor at an aligned offset
// (Tensor.offset), so the norms, RoPE and attention read them as they read separate tensors:
// no split, no copy. When the three planes exceed one storage binding, three GEMMs run on the
// fused weight's parts instead; a part the adapter cannot bind at its offset (to_k.bias at byte
// D·4 in f32) is copied to scratch first, inside the forward, so every step copies it again.
// Why not once at load: only widths no released model has make such parts (D·bytes or D·K·bytes
// not a multiple of 256: to_k.bias of wan-tiny f32 (D 96) and dit-tiny f16 (D 64), a few hundred
// bytes per block, the k and v weight parts too at D 36; at D 1152, 1536 and 5120 every part binds), and
// only runs whose q|k|v planes exceed one binding take this path, so the per-step copy is a few KB.
// A copy made at load is an extra weight buffer, and the weights' estimate (model/memory.ts
// estimateWeights) is exact by contract: tried (Weights.aligned, written by uploadWeights and
// recordRandomWeights), it failed tests/hardening/limits.test.ts and planner-presets.test.ts
// (wan-tiny f32/f16, dit-tiny f16) until estimateWeights counts the same copies, by a rule that
// must also agree with a device whose minStorageBufferOffsetAlignment is below the planning 256.
import { maxBindingBytes, offsetAlignment, type Plan } from '../gpu/plan.js';
import { bytesPer, storageBytes, subTensor, type Tensor } from '../gpu/tensor.js';
import { stridedCopy } from '../ops/elementwise.js';
import { gemm } from '../ops/gemm.js';
import { linear, type Scratch, view } from './layers.js';
import type { Weights } from './weights.js';

/**
 * Elements between the q, k and v planes for `rows`·`width` values each: the plane size rounded
 * up so every plane starts at a multiple of the device's minStorageBufferOffsetAlignment.
 */
export function planeStride(plan: Plan, rows: number, width: number, bytes: number): number {
  // a planning Gpu (src/gpu/memory-plan.ts) has no device: 256, the largest alignment WebGPU allows
  const align = offsetAlignment(plan.gpu) / bytes;
  return Math.ceil((rows * width) / align) * align;
}

/**
 * Part `i` of fused tensor `whole` (`part`, a view at its offset) as a tensor that binds: `part` itself
 * when its byte offset is a multiple of the binding alignment, else a scratch copy of its elements
 * (one strided-copy dispatch reading `whole`, which starts at byte 0). The same decision on a
 * planning Gpu (alignment 256) and on a device, so a dry run records the copies a real run records.
 */
function alignedPart(plan: Plan, s: Scratch, whole: Tensor, i: number, part: Tensor): Tensor {
  if ((part.offset ?? 0) % offsetAlignment(plan.gpu) === 0) return part;
  const copy = s.get(`${part.label}:aligned`, part.shape);
  const pre = plan.layer ? `${plan.layer}.` : '';
  const layer = part.label.startsWith(pre) ? part.label.slice(pre.length) : part.label;
  return stridedCopy(plan, { src: whole, dst: copy, extent: [part.size], srcStrides: [1], dstStrides: [1], srcOffset: i * part.size, layer });
}

/**
 * q, k, v = x·W_qᵀ + b_q, x·W_kᵀ + b_k, x·W_vᵀ + b_v for self-attention `attn` (`blocks.3.attn1`),
 * each shaped like `x` [..., D] with D = the projections' output width. Fused (one GEMM labelled
 * `<attn>.to_qkv`, into scratch `qkv`) when the weights were fused at load and the three planes
 * fit one storage binding, else three GEMMs into scratch `q_proj`, `k_proj`, `v_proj` (labelled
 * `to_q`, `to_k`, `to_v`); there a fused part whose byte offset the adapter cannot bind is read
 * from an aligned scratch copy (alignedPart).
 */
export function qkvProjection(plan: Plan, s: Scratch, w: Weights, attn: string, x: Tensor): [Tensor, Tensor, Tensor] {
  const f = w.qkv(attn);
  const rows0 = x.size / x.shape[x.shape.length - 1]!;
  const N0 = f ? f.w.shape[0]! / 3 : 0;
  // The GEMM binds all three planes at once: where they exceed one storage binding but a plane
  // fits, three GEMMs (on the fused weight's parts) keep the run possible.
  const tooBig = !!f && storageBytes(3 * planeStride(plan, rows0, N0, bytesPer(x.dtype)), x.dtype) > maxBindingBytes(plan.gpu, bytesPer(x.dtype));
  if (!f || tooBig) {
    const rows = x.size / x.shape[x.shape.length - 1]!;
    return (['q', 'k', 'v'] as const).map((n, i) => {
      const l = w.linear(`${attn}.to_${n}`);
      if (f) {
        // a part of the fused weight or bias that does not start at a binding offset the adapter
        // takes (to_k.bias at byte D·4 in f32) is copied out to a scratch of its own first
        l.w = alignedPart(plan, s, f.w, i, l.w);
        l.b = alignedPart(plan, s, f.b!, i, l.b);
      }
      const N = l.w.shape[0]!;
      // flat scratch, viewed: the blocks' layouts ([B·F, S, D] or [B, F·S, D]) share it
      return linear(plan, x, l, view(s.get(`${n}_proj`, [rows * N]), [...x.shape.slice(0, -1), N]));
    }) as [Tensor, Tensor, Tensor];
  }
  const D = f.w.shape[0]! / 3;
  const shape = [...x.shape.slice(0, -1), D];
  const rows = x.size / x.shape[x.shape.length - 1]!;
  const stride = planeStride(plan, rows, D, bytesPer(x.dtype));
  const qkv = s.get('qkv', [3 * stride]);
  const pre = plan.layer ? `${plan.layer}.` : '';
  gemm(plan, { x, w: f.w, bias: f.b, out: qkv, planes: { width: D, stride }, layer: f.key.startsWith(pre) ? f.key.slice(pre.length) : f.key });
  return [0, 1, 2].map((i) => subTensor(qkv, i * stride, shape, `${qkv.label}.${'qkv'[i]}`)) as [Tensor, Tensor, Tensor];
}
