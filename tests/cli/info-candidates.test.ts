// `tessera info` lists, beside each heuristic GEMM choice, the candidates the tuner would time for
// that shape. The tuner asks gemmCandidates with K (ops/gemm.ts: the compiled-in-K variants only at a
// declared K), and info asked without it, so on lavapipe it listed tiled-128 and tiled-64 for
// 4096×1152×1152 where `tessera tune` times subgroup-sr16-k and subgroup-sr32-k (K 1152 is declared).
import { describe, expect, it } from 'vitest';
import { gemmCandidates, gemmKcOk } from '../../src/ops/gemm.js';
import { subgroupsOf8 } from '../../src/gpu/policy.js';
import { tesseraCli } from '../helpers/cli.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

interface Row { op: string; shape: string; strategy: string; candidates: string[] }

describe.skipIf(!hasGpu)('tessera info: the tuner candidates of each heuristic GEMM shape', () => {
  it('are the ones the tuner times at that M, K and N (the compiled-in-K variants where K has one)', async () => {
    const r = await tesseraCli(['info', '--json', '--no-tune'], { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
    expect(r.code, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { tuning: { heuristics: Row[] } }).tuning.heuristics.filter((h) => h.op === 'gemm');
    expect(rows.length).toBeGreaterThan(0);
    for (const h of rows) {
      const [m, k, n] = h.shape.split('×').map(Number) as [number, number, number];
      expect([h.shape, h.candidates]).toEqual([h.shape, gemmCandidates(gpu!, m, n, k)]);
    }
    // on a CPU adapter with subgroups (lavapipe) the big shape's K 1152 has compiled-in-K variants
    if (gpu!.isCpu && subgroupsOf8(gpu!) && gemmKcOk(1152)) {
      expect(rows.find((h) => h.shape === '4096×1152×1152')!.candidates).toEqual(['subgroup-sr16', 'subgroup-sr32', 'subgroup-sr16-k', 'subgroup-sr32-k']);
    }
  });
});
