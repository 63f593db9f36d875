// A request whose size passes what a kernel counts in 32 bits (a u32 parameter, a binding's element
// count, the workgroup grid) is a LimitError naming the op, the count and the limit, never the plain
// 'uniform pairs=6210846720 is not a u32' (audit H item 1): a real recording refuses it before any
// GPU object is made, a memory-planning dry run notes it so that checkRunFits refuses the run with
// its numbers and what would fit. No GPU: every plan here is a dry run or fails before the device.
import { describe, expect, it } from 'vitest';
import { DryAllocator, planMemory, planningGpu } from '../../src/gpu/memory-plan.js';
import { grid1D, LimitError as PlanLimitError, packUniforms, Plan, U32_MAX } from '../../src/gpu/plan.js';
import { Allocator } from '../../src/gpu/tensor.js';
import { parseConfig } from '../../src/model/config.js';
import { checkRunFits, estimateMemory, LimitError } from '../../src/model/memory.js';
import { InputError } from '../../src/model/model.js';
import { PRESETS } from '../../src/model/presets.js';
import { rope } from '../../src/ops/rope.js';
import { thrown } from '../helpers/errors.js';

const GiB = 2 ** 30;
const wan13b = parseConfig(PRESETS['wan-1.3b']!.config);
// `tessera bench model --preset wan-1.3b --frames 81 --height 480 --width 832`: the CFG batch of 2
// at a latent of 81×480×832 (8,087,040 tokens per item)
const AUDIT = [2, 16, 81, 480, 832];
const TEXT = [2, 32, 4096];
// lavapipe's limits; and an adapter whose bindings are unlimited, so that only the counts overflow
const LAVAPIPE = { maxBufferSize: 2 * GiB, maxStorageBufferBindingSize: 128 * 2 ** 20 };
const HUGE_BINDINGS = { maxBufferSize: 2 ** 40, maxStorageBufferBindingSize: 2 ** 40 };

/** rope over one item's q of wan-1.3b at the audit's size: pairs = 8087040 × 12 × 64 = 6210846720. */
function recordRope(plan: Plan, dry: DryAllocator): void {
  const x = dry.tensor([1, 8087040, 1536], 'f32', 'q');
  const table = dry.tensor([8087040, 64, 2], 'f32', 'rope_table');
  plan.layer = 'blocks.0';
  rope(plan, { x, table, heads: 12, headDim: 128, layer: 'attn1' });
}

describe('counts past 32 bits', () => {
  it('packUniforms: a u32 above 2^32 − 1 is a LimitError naming the dispatch, the field, the count and what to reduce', () => {
    const e = thrown(() => packUniforms([['pairs', 'u32', 6210846720]], 'rope@blocks.0.attn1'), LimitError);
    expect(e.message).toBe('rope@blocks.0.attn1: uniform pairs is 6210846720, above 4294967295 (the 2^32 − 1 a WebGPU kernel counts to in 32 bits): use fewer frames, a smaller resolution or a smaller batch');
    expect(e.name).toBe('LimitError');
    // the library's LimitError is the one Plan throws (one class: `instanceof` holds for both)
    expect(PlanLimitError).toBe(LimitError);
    expect(new DataView(packUniforms([['n', 'u32', U32_MAX]])).getUint32(0, true)).toBe(U32_MAX);
    // a negative or fractional count is the op's bug, not the request's size: a plain Error
    for (const v of [-1, 2.5]) {
      let err: unknown;
      try {
        packUniforms([['n', 'u32', v]], 'k');
      } catch (x) {
        err = x;
      }
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(LimitError);
      expect((err as Error).message).toBe(`k: uniform n=${v} is not a u32`);
    }
  });

  it('a real recording refuses the dispatch before any GPU object is made', () => {
    const gpu = planningGpu(HUGE_BINDINGS); // no device: reaching it would throw a TypeError instead
    const dry = new DryAllocator(gpu);
    const plan = new Plan(gpu, new Allocator(gpu));
    const e = thrown(() => recordRope(plan, dry), LimitError);
    expect(e.message).toBe('rope@blocks.0.attn1: uniform pairs is 6210846720, above 4294967295 (the 2^32 − 1 a WebGPU kernel counts to in 32 bits): use fewer frames, a smaller resolution or a smaller batch');
    expect(plan.dispatches).toHaveLength(0);
  });

  it('a dry run notes the count instead of throwing; the memory plan reports it', () => {
    const gpu = planningGpu(HUGE_BINDINGS);
    const m = planMemory(gpu, (alloc) => {
      const plan = new Plan(gpu, alloc);
      recordRope(plan, alloc as DryAllocator);
      return [plan];
    });
    expect(m.dispatches).toBe(1);
    expect(m.overflow).toEqual({ where: 'rope@blocks.0.attn1', what: 'uniform pairs', value: 6210846720, limit: U32_MAX });
  });

  it('a workgroup grid above the per-dimension limit: grid1D splits it, Plan.record refuses it by name', () => {
    const gpu = planningGpu({ ...HUGE_BINDINGS, maxComputeWorkgroupsPerDimension: 16 });
    expect(grid1D(gpu, 16)).toEqual([16, 1, 1]);
    expect(grid1D(gpu, 17 * 16)).toEqual([16, 17, 1]); // y past 16: no throw here
    const dry = new DryAllocator(gpu);
    const plan = new Plan(gpu, new Allocator(gpu));
    const x = dry.tensor([1, 4096, 64], 'f32', 'q');
    const table = dry.tensor([4096, 32, 2], 'f32', 'rope_table');
    // one invocation per (token, head) on this planning adapter (not a CPU: vec4, two pairs each)
    const e = thrown(() => rope(plan, { x, table, heads: 1, headDim: 64, wg: 64, layer: 'attn1' }), LimitError);
    expect(e.message).toMatch(/^rope@attn1: the workgroup count along y \(\d+ workgroups in all\) is \d+, above 16 \(the adapter's maxComputeWorkgroupsPerDimension\): use fewer frames, a smaller resolution or a smaller batch$/);
  });
});

describe('checkRunFits and estimateMemory at the audit size (wan-1.3b, 81×480×832 latent, CFG batch 2)', () => {
  it('far over the binding limit: a LimitError from the shapes alone, with how many tokens fit', () => {
    const e = thrown(() => checkRunFits(wan13b, AUDIT, TEXT, 'f32', LAVAPIPE, { f16: true }), LimitError);
    expect(e.message).toBe(
      "this run (latents [2,16,81,480,832], text [2,32,4096], f32) cannot fit: its hidden states, [8087040,1536] per item, are 46.27 GiB, more than 64× the adapter's maxStorageBufferBindingSize of 128.0 MiB: " +
        // one item's hidden states are far over: no smaller batch suggested, it could not help
        'use a smaller resolution or fewer frames (about 21632 of these 8087040 tokens per item fit)' +
        // the audit size is a 480p × 81 video's pixel sizes given as a latent: the refusal says so (15354a9)
        '. Note: latent [2,16,81,480,832] looks like pixel sizes (480×832 and 81 frames); a latent is the pixels / 8 and (frames − 1) / 4 + 1 frames: [2,16,21,60,104] for that video',
    );
    // the suggestion is exact: 52 rows of 416 patches fit, 53 do not
    expect(() => checkRunFits(wan13b, [2, 16, 1, 104, 832], TEXT, 'f32', LAVAPIPE)).not.toThrow();
    expect(() => checkRunFits(wan13b, [2, 16, 1, 106, 832], TEXT, 'f32', LAVAPIPE)).toThrow(LimitError);
  }, 120_000);

  it('bindings unlimited: the count past 2^32 is the refusal, naming the op, with the numbers and the frames that fit', () => {
    const e = thrown(() => checkRunFits(wan13b, AUDIT, TEXT, 'f32', HUGE_BINDINGS, { f16: true }), LimitError);
    expect(e.message).toMatch(/^this run \(latents \[2,16,81,480,832\], text \[2,32,4096\], f32\) needs \d+\.\d\d GiB on the GPU \(weights 5\.\d\d GiB \+ activations \d+\.\d\d GiB \+ workspace [^)]+\); it cannot be recorded: /);
    // the FFN and q|k|v split below 2^32 − 1 elements (session 14): one item's hidden states x [1, N, 1536] are what overflows, 28 frames' fit
    expect(e.message).toMatch(/it cannot be recorded: gemm_tiled@patch_embedding: the element count of x \[1,8087040,1536\] is 12421693440, above 4294967295 \(the 2\^32 − 1 a WebGPU kernel counts to in 32 bits\): use fewer frames \(28 latent frames fit at this resolution\), a smaller resolution or a smaller batch\. Note: latent \[2,16,81,480,832\] looks like pixel sizes/);
    // f16 halves the bytes, not the counts: never suggested for an overflow
    expect(e.message).not.toContain('f16');
    // estimateMemory reports it without throwing
    const est = estimateMemory(wan13b, AUDIT, TEXT, 'f32', HUGE_BINDINGS);
    expect(est.plan.overflow?.limit).toBe(U32_MAX);
    expect(est.plan.overflow!.value).toBeGreaterThan(U32_MAX);
    expect(() => checkRunFits(wan13b, [2, 16, 28, 480, 832], TEXT, 'f32', HUGE_BINDINGS)).not.toThrow();
  }, 120_000);

  it("a Wan grid past rope_max_seq_len is the request's own error, before any size check or probe", () => {
    const e = thrown(() => checkRunFits(wan13b, [2, 16, 81, 4800, 8320], TEXT, 'f32', LAVAPIPE), InputError);
    expect(e.message).toMatch(/^latent: \[2,16,81,4800,8320\] gives a grid of 81×2400×4160 .*beyond config\.json's rope_max_seq_len 1024 in height and width/);
  });
});
