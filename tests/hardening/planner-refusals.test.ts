// Session 14: a refusal names only ways out the caller has. `tessera bench model` times one step on
// the CFG batch of 2, which no flag changes, yet its refusals suggested "a smaller batch"; the
// library's checkRunFits (and generate, whose batch is the prompts × CFG) still does. The CLI's line
// is the library's, in the CLI's words for the options (--dtype f16).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/model/config.js';
import { checkRunFits, LimitError } from '../../src/model/memory.js';
import { PRESETS } from '../../src/model/presets.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { tesseraCli } from '../helpers/cli.js';
import { thrown } from '../helpers/errors.js';
import { flagNames } from '../../src/cli/errors.js';

const wan13b = parseConfig(PRESETS['wan-1.3b']!.config);
// Wan 480p × 81 frames: 21 latent frames of 60×104, the CFG batch of 2, the preset's 32 text tokens
const LATENT = [2, 16, 21, 60, 104];
const TEXT = [2, 32, 4096];
const LAVAPIPE = { maxBufferSize: 2 ** 32 - 1, maxStorageBufferBindingSize: 128 * 2 ** 20 };

describe('a fixed batch is not suggested', () => {
  it('checkRunFits: "a smaller batch" unless fixedBatch', () => {
    const free = thrown(() => checkRunFits(wan13b, LATENT, TEXT, 'f32', LAVAPIPE, { f16: true }), LimitError).message;
    expect(free).toMatch(/: use fewer frames \(14 latent frames fit at this resolution\), a smaller resolution, a smaller batch or dtype: 'f16' \(half the bytes\)$/);
    const fixed = thrown(() => checkRunFits(wan13b, LATENT, TEXT, 'f32', LAVAPIPE, { f16: true, fixedBatch: true }), LimitError).message;
    expect(fixed).toBe(free.replace(', a smaller batch', ''));
  });

  it.skipIf(!hasGpu)("tessera bench model: Wan 480p × 81 frames in f32 on lavapipe's 128 MiB bindings is refused before a weight is made, in the library's words, without 'a smaller batch'", async () => {
    const r = await tesseraCli(['bench', 'model', '--preset', 'wan-1.3b', '--frames', '21', '--height', '60', '--width', '104', '--max-memory', '1TiB']);
    expect(r.code, r.stderr).toBe(1);
    const lib = thrown(() => checkRunFits(wan13b, LATENT, TEXT, 'f32', gpu!.limits, { f16: gpu!.f16, fixedBatch: true }), LimitError).message;
    expect(r.stderr.trim().split('\n')).toEqual([`tessera: error: LimitError: ${lib.replace("dtype: 'f16'", '--dtype f16')}`]);
    expect(r.stderr).not.toContain('batch');
    expect(r.stdout).not.toContain('making wan-1.3b');
  }, 120_000);
});

describe('a weight above the per-buffer limit', () => {
  it('checkRunFits says so first, as loading would, not "a smaller resolution" (Wan-14B on 128 MiB bindings: its time projection [6·5120, 5120])', () => {
    const wan14b = parseConfig(PRESETS['wan-14b']!.config);
    for (const dtype of ['f32', 'f16'] as const) {
      // 720p × 81 frames: x [2,75600,5120] (1.44 GiB per item in f32) is larger still than the weight, and was named alone
      const e = thrown(() => checkRunFits(wan14b, [2, 16, 21, 90, 160], [2, 512, 4096], dtype, LAVAPIPE, { f16: true }), LimitError);
      const size = dtype === 'f32' ? '600.0 MiB' : '300.0 MiB';
      // in f32 the line says f16 would not do either (user24 #4)
      const rest = dtype === 'f32' ? 'a smaller model (in f16 it is still 300.0 MiB)' : 'a smaller model';
      expect(e.message).toBe(`the model's largest weight condition_embedder.time_proj.weight [30720,5120] is ${size} in ${dtype}, above the adapter's per-buffer limit of 128.0 MiB: ${rest}`);
    }
    // a loaded model's weights fit by construction: the run itself is judged
    const held = thrown(() => checkRunFits(wan14b, [2, 16, 21, 90, 160], [2, 512, 4096], 'f16', LAVAPIPE, { heldBytes: 1 }), LimitError);
    expect(held.message).toMatch(/^this run .* its largest tensor, x \[2,75600,5120\], a part, is 738\.3 MiB/);
  });
});

describe('over the budget alone, the budget that would hold the run is named', () => {
  it('checkRunFits: "a larger maxMemory budget (N bytes or more)"; N holds the run, N − 1 does not; the CLI says --max-memory', () => {
    // Wan 480p × 81 frames in f16 on an H200's bindings, under a 4 GiB budget (it needs 4.72 GiB)
    const H200 = { maxStorageBufferBindingSize: 2 ** 32 - 4, maxBufferSize: 2 ** 40 };
    const e = thrown(() => checkRunFits(wan13b, LATENT, TEXT, 'f16', H200, { f16: true, maxMemory: 4 * 2 ** 30 }), LimitError);
    const m = /^this run .* above the budget of 4\.00 GiB \(maxMemory\): use fewer frames \(\d+ latent frames fit at this resolution\), a smaller resolution, a smaller batch or a larger maxMemory budget \((\d+) bytes or more\)$/.exec(e.message);
    expect(m, e.message).not.toBeNull();
    const need = Number(m![1]);
    expect(() => checkRunFits(wan13b, LATENT, TEXT, 'f16', H200, { maxMemory: need })).not.toThrow();
    expect(() => checkRunFits(wan13b, LATENT, TEXT, 'f16', H200, { maxMemory: need - 1 })).toThrow(LimitError);
    expect(flagNames(e.message)).toMatch(new RegExp(`, a smaller batch or give --max-memory ${need} or more$`));
    // a run past a binding is not helped by a budget: not named
    expect(thrown(() => checkRunFits(wan13b, LATENT, TEXT, 'f32', LAVAPIPE, { maxMemory: 2 ** 40 }), LimitError).message).not.toContain('budget (');
  });
});
