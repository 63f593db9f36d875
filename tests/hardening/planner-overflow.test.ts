// Session 14: counts past 32 bits in the fit checks and their searches. The memory dry run notes a
// count a kernel cannot hold (an element count past 2^32 − 1, a workgroup grid past the adapter's
// maxComputeWorkgroupsPerDimension); checkRunFits refused such a run, but (1) the dry run planned
// against WebGPU's default grid limit whatever the adapter said, and (2) the Pipeline's own fit check
// (and the search for what fits that it drives) ignored the overflow, so generate() let the run
// through to its text stage and failed in the transformer's recording instead; (3) on bindings past
// 4 GiB the FFN's token chunks and the q|k|v split followed the bytes alone, so an FFN activation of
// more than 2^32 − 1 elements was refused where chunks of fewer would run.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/model/config.js';
import { beyondAdapter, checkRunFits, estimateMemory, LimitError } from '../../src/model/memory.js';
import { PRESETS } from '../../src/model/presets.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import { nodeFolder } from '../../src/io/node-source.js';
import type { Gpu } from '../../src/gpu/device.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { ROOT } from '../helpers/golden.js';
import { thrown } from '../helpers/errors.js';

const wan13b = parseConfig(PRESETS['wan-1.3b']!.config);
// an adapter whose bindings are larger than 4 GiB (Metal reports its maxBufferLength), so that the
// element counts overflow before any binding does
const BIG_BINDINGS = { maxStorageBufferBindingSize: 2 ** 36, maxBufferSize: 2 ** 40 };
const SHAPES = join(ROOT, 'models', 'tessera-shapes');
const shapesConfig = async () => parseConfig((await import('../../models/tessera-shapes/transformer/config.json', { with: { type: 'json' } })).default);

describe('the fit check and its search honour 32-bit counts', () => {
  it('bindings above 4 GiB: the FFN and q|k|v split where their element counts would pass 2^32 − 1 (wan-1.3b, CFG batch 2, 1080p × 201 frames in f16 fits)', () => {
    // latents of 1080p × 201 frames: (201 − 1)/4 + 1 = 51 latent frames of 136×240: ffn_hidden of the whole
    // batch would be [2,416160,8960], 7.46e9 elements, and was refused although its bytes fit a binding
    const est = checkRunFits(wan13b, [2, 16, 51, 136, 240], [2, 512, 4096], 'f16', BIG_BINDINGS);
    expect(est.plan.overflow).toBeUndefined();
    const chunk = est.plan.activations.find((a) => a.label === 'ffn_hidden_chunk')!;
    expect(chunk.shape[0]! * chunk.shape[1]!).toBeLessThanOrEqual(2 ** 32 - 1);
    for (const a of est.plan.activations) expect(a.bytes / 2, `${a.label} [${a.shape}]`).toBeLessThanOrEqual(2 ** 32);
  });

  it("one item's hidden states past 2^32 − 1 elements: refused naming the count; the frames it names fit, one more does not", () => {
    // 4K-ish: 101 latent frames of 272×480, x [1,3296640,1536] per item (5.06e9 elements)
    const text = [2, 512, 4096];
    const e = thrown(() => checkRunFits(wan13b, [2, 16, 101, 272, 480], text, 'f16', BIG_BINDINGS), LimitError);
    expect(e.message).toMatch(/; it cannot be recorded: gemm_tiled@patch_embedding: the element count of x \[1,3296640,1536\] is 5063639040, above 4294967295 \(the 2\^32 − 1 a WebGPU kernel counts to in 32 bits\): use fewer frames \((\d+) latent frames fit at this resolution\), a smaller resolution or a smaller batch$/);
    const n = Number(/\((\d+) latent frames fit/.exec(e.message)![1]);
    expect(() => checkRunFits(wan13b, [2, 16, n, 272, 480], text, 'f16', BIG_BINDINGS)).not.toThrow();
    expect(thrown(() => checkRunFits(wan13b, [2, 16, n + 1, 272, 480], text, 'f16', BIG_BINDINGS), LimitError).message).toContain('it cannot be recorded: ');
  });

  it("the dry run plans against the adapter's workgroup grid limit, and beyondAdapter reports what it noted", async () => {
    const c = await shapesConfig();
    const latent = [2, 16, 3, 16, 16];
    const text = [2, 16, 64];
    const lim = { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 };
    const wide = estimateMemory(c, latent, text, 'f32', lim);
    expect(wide.plan.overflow).toBeUndefined();
    expect(beyondAdapter(wide, lim)).toEqual({ tooBig: false });
    // 16 workgroups per dimension: a grid of 16 × 16 at most (the norms' 384 are past it)
    const narrow = { ...lim, maxComputeWorkgroupsPerDimension: 16 };
    const est = estimateMemory(c, latent, text, 'f32', narrow);
    expect(beyondAdapter(est, narrow)).toEqual({ tooBig: false, overflow: { where: 'norm@blocks.0.norm1', what: 'the workgroup count along y (384 workgroups in all)', value: 24, limit: 16 } });
    const e = thrown(() => checkRunFits(c, latent, text, 'f32', narrow), LimitError);
    expect(e.message).toContain("it cannot be recorded: norm@blocks.0.norm1: the workgroup count along y (384 workgroups in all) is 24, above 16 (the adapter's maxComputeWorkgroupsPerDimension): use fewer frames (2 latent frames fit at this resolution)");
    expect(() => checkRunFits(c, [2, 16, 2, 16, 16], text, 'f32', narrow)).not.toThrow();
  });
});

describe.skipIf(!hasGpu)('Pipeline.generate refuses a count past the adapter before any stage', () => {
  it('64×64 × 9 frames with CFG on an adapter of 16 workgroups per dimension: refused naming the count, and the frames that fit', async () => {
    // the same device, reporting a smaller grid limit: a real recording past it throws LimitError
    const narrow: Gpu = { ...gpu!, limits: { ...gpu!.limits, maxComputeWorkgroupsPerDimension: 16 } };
    const pipe = await loadPipeline(nodeFolder(SHAPES), { gpu: narrow });
    try {
      const stages: string[] = [];
      const e = await pipe
        .generate({ prompt: 'a red circle moving left', seed: 0, height: 64, width: 64, num_frames: 9, num_inference_steps: 1, max_sequence_length: 16, guidance_scale: 5, output_type: 'latent', onStage: (s) => stages.push(s) })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(LimitError);
      expect((e as Error).message).toMatch(
        /^height×width 64×64 × 9 frames \(latents \[1,16,3,16,16\]\) does not fit: the transformer cannot be recorded at this size: norm@blocks\.0\.norm1: the workgroup count along y \(384 workgroups in all\) is 24, above 16 \(the adapter's maxComputeWorkgroupsPerDimension\); at most 5 frames fit at height×width 64×64/,
      );
      expect(stages).toEqual([]); // not even the text stage ran
    } finally {
      pipe.dispose();
    }
  }, 120_000);
});
