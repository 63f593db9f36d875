// Plain `tessera tune` on lavapipe took 507.5 s for its 13 shapes at load 17–31 (session 17; over the 480 s a device
// session gives it): the four shapes of 6.4 GFLOP or more, 336 s of it. On a CPU adapter the list now leaves out shapes
// above CPU_TUNE_MAX_FLOPS (2^31) with a line saying how to ask for them (--shapes M×K×N, or --shapes all); --shapes
// tunes given shapes; each shape's line says its place and, from the second on, about how long is left (tuneEta). The
// race (raceCandidates) is untouched: a tuned shape is decided as before. No GPU (the adapters are stand-ins).
import { describe, expect, it } from 'vitest';
import { CPU_TUNE_MAX_FLOPS, parseTuneShapes, TUNE_GEMM_SHAPES, tuneEta, tuneShapeList } from '../../src/cli/cmd-tune.js';
import { tesseraCli } from '../helpers/cli.js';

const MiB = 2 ** 20;
const lavapipe = { isCpu: true, limits: { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 2 ** 32 } } as Parameters<typeof tuneShapeList>[0];
const h200 = { isCpu: false, limits: { maxStorageBufferBindingSize: 2 ** 32 - 4, maxBufferSize: 2 ** 40 } } as Parameters<typeof tuneShapeList>[0];
const name = ([m, k, n]: number[]) => `${m}×${k}×${n}`;

describe('tessera tune: which GEMM shapes it times', () => {
  it('a GPU: the whole list', () => {
    expect(tuneShapeList(h200, 'f32')).toEqual({ shapes: TUNE_GEMM_SHAPES, left: [] });
  });

  it('a CPU adapter: the list without its shapes above 2^31 FLOPs (each said, with the flag that asks for it) and those beyond its limits', () => {
    const r = tuneShapeList(lavapipe, 'f32');
    expect(r.shapes.map(name)).toEqual(['1024×384×384', '1024×384×1536', '1024×1536×384', '2×1536×9216', '2×256×1536', '2×1152×6912', '16×384×1536', '64×1152×1152']);
    expect(r.shapes.every(([m, k, n]) => 2 * m * k * n <= CPU_TUNE_MAX_FLOPS)).toBe(true);
    expect(r.left.map((x) => x.shape)).toEqual(['4096×1152×1152', '1024×1152×4608', '1024×4608×1152', '4096×1536×1536', '4096×1536×8960', '4096×8960×1536', '512×4096×1536']);
    expect(r.left[0]!.why).toBe('10.9 GFLOP a call, seconds a run on this CPU adapter (give --shapes 4096×1152×1152, or --shapes all)');
    expect(r.left[4]!.why).toMatch(/^its y \[4096, 8960\] \(140\.0 MiB in f32\) is above this adapter's maxStorageBufferBindingSize/);
    // --shapes all: the whole list again, less what cannot run; --shapes: those given, whatever their size
    expect(tuneShapeList(lavapipe, 'f32', 'all').left.map((x) => x.shape)).toEqual(['4096×1536×8960', '4096×8960×1536']);
    expect(tuneShapeList(lavapipe, 'f32', [[4096, 1152, 1152]])).toEqual({ shapes: [[4096, 1152, 1152]], left: [] });
    expect(tuneShapeList(lavapipe, 'f32', 'quick').shapes).toEqual(TUNE_GEMM_SHAPES.slice(0, 2));
  });

  it('--shapes: M×K×N or MxKxN, separated by commas, or all', () => {
    expect(parseTuneShapes('1024×384×1536, 2x256x1536')).toEqual([[1024, 384, 1536], [2, 256, 1536]]);
    expect(parseTuneShapes('all')).toBe('all');
    expect(() => parseTuneShapes('1024x384')).toThrow('--shapes: "1024x384" is not a GEMM shape M×K×N of integers from 1 to 1048576 (e.g. --shapes 1024×384×1536,4096x1152x1152, or --shapes all for the whole list)');
    expect(() => parseTuneShapes('0x4x4')).toThrow('--shapes: "0x4x4" is not a GEMM shape');
  });

  it('the time left: nothing before the first shape; then a fixed cost per shape (the quickest one\'s) and the rest by FLOPs', () => {
    expect(tuneEta([], [1e9])).toBeNull();
    // 2 s for a shape of no FLOPs to speak of, 12 s for 1e10 FLOPs: 2 s a shape + 1 s per 1e9 FLOPs
    expect(tuneEta([{ flops: 1e3, s: 2 }, { flops: 1e10, s: 12 }], [1e3, 5e9])).toBe(Math.ceil(2 * 2 + (10 / (1e10 + 1e3)) * (5e9 + 1e3)));
  });

  it('a bad --shapes, or --shapes beside --quick / --preset: one line, exit 2, before the adapter is acquired', async () => {
    let r = await tesseraCli(['tune', '--shapes', '12x3']);
    expect(r.stderr).toBe('tessera: error: UsageError: --shapes: "12x3" is not a GEMM shape M×K×N of integers from 1 to 1048576 (e.g. --shapes 1024×384×1536,4096x1152x1152, or --shapes all for the whole list)\n');
    expect(r.code).toBe(2);
    r = await tesseraCli(['tune', '--quick', '--shapes', 'all']);
    expect(r.stderr).toBe('tessera: error: UsageError: --shapes replaces the GEMM shape list: not with --quick\n');
    r = await tesseraCli(['tune', '--preset', 'wan-tiny', '--shapes', '2x2x2']);
    expect(r.stderr).toBe('tessera: error: UsageError: --shapes replaces the GEMM shape list: not with --preset\n');
  }, 60_000);
});
