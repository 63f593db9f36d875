// The device ceiling (src/profile/ceiling.ts): both copy variants are checked element by element
// before timing, and copy_gbps is the best of the four copies measured (1 and 8 vec4 per
// invocation × a cache-sized and a memory-sized buffer). No timing is asserted.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { measureCeilingDetailed, validateCeiling } from '../../src/profile/ceiling.js';

describe.skipIf(!hasGpu)('device ceiling', () => {
  it('the copy kernels (VPT 1 and 8, a tail that is not a multiple of either) copy exactly', async () => {
    await expect(validateCeiling(gpu!)).resolves.toBeUndefined();
  });

  it('copy_gbps is the best of the four copies, named in copy_best', async () => {
    const { ceiling, runs } = await measureCeilingDetailed(gpu!, { repeats: 1, warmup: 0, targetMs: 1 });
    const copies = runs.filter((r) => r.name.startsWith('copy '));
    expect(copies.map((r) => r.name.replace(/ [\d.]+ MiB$/, ''))).toEqual(['copy VPT=1', 'copy VPT=1', 'copy VPT=8', 'copy VPT=8']);
    const gbps = copies.map(({ run }) => {
      const d = run.dispatches[0]!;
      const ms = run.timing === 'gpu-timestamps' ? Math.min(...d.samples) : Math.min(...run.stepMs);
      return d.bytes / (ms * 1e6);
    });
    expect(ceiling.copy_gbps).toBeCloseTo(Math.max(...gbps), 6);
    const best = copies[gbps.indexOf(Math.max(...gbps))]!.name.replace(/^copy /, '').replace(' ', ', ');
    expect(ceiling.copy_best).toBe(`${best} per buffer`);
  });
});
