// `tessera bench … --variants` end to end on tiny shapes: each side's kernels recorded, the noise
// verdict, attention's tuner candidate rows-dh, and a block A/B of identical kernel sources running
// one set of tuned choices (audit B items 5, 6).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';
import { sameMesaCache } from '../helpers/mesa-cache.js';

const lastJson = (stdout: string): Record<string, unknown> => JSON.parse(stdout.trim().split('\n').pop()!);

interface VariantRow {
  variant: string;
  kernel: string;
  kernels: string[];
  min_ms: number;
  median_ms: number;
  max_ms: number;
  within_noise: boolean | null;
}

describe.skipIf(!hasGpu)('tessera bench --variants', () => {
  const cache = mkdtempSync(join(tmpdir(), 'tessera-bench-variants-'));
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it('attention rows;rows-dh: the compiled-in-head-dim candidate runs; each side records its kernels, range and noise verdict', async () => {
    const r = await tesseraCli(['bench', 'attention', '--heads', '1', '--tokens', '4', '--head-dim', '64', '--variants', 'rows;rows-dh', '--repeats', '2', '--warmup', '0', '--no-ceiling', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    const rows = j.results as VariantRow[];
    expect(rows.map((v) => v.variant)).toEqual(['rows', 'rows-dh']);
    expect(rows[0]!.kernels).toEqual([rows[0]!.kernel]);
    expect(rows[0]!.kernel).toMatch(/^attention\[.*DH4=0\b/);
    expect(rows[1]!.kernel).toMatch(/^attention\[.*DH4=16\b/); // head dim 64 compiled in
    for (const v of rows) expect(v.min_ms <= v.median_ms && v.median_ms <= v.max_ms, JSON.stringify(v)).toBe(true);
    expect(rows[0]!.within_noise).toBeNull();
    const overlap = rows[1]!.min_ms <= rows[0]!.max_ms && rows[0]!.min_ms <= rows[1]!.max_ms;
    expect(rows[1]!.within_noise).toBe(overlap);
    // different candidates by request: not a difference in tuned choices
    expect(j.kernel_choices_differ).toBe(false);
    expect(j.kernel_differences).toEqual([]);
  });

  it('a named rows-dh at a head dim without its compiled-in variant is refused before GPU work, saying what it would run as', async () => {
    const r = await tesseraCli(['bench', 'attention', '--heads', '1', '--tokens', '4', '--head-dim', '8', '--variants', 'rows-dh', '--repeats', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('tessera: error: UsageError: --variants: rows-dh compiles the head dim in, but --head-dim 8 has no compiled-in variant (head dims 64, 72, 128): it would run as rows; name that instead');
  });

  it('block default;default: identical kernel sources are tuned once and both sides run the same choices, listed per side', async () => {
    const r = await tesseraCli(['bench', 'block', '--hidden', '16', '--heads', '2', '--tokens', '9', '--variants', 'default;default', '--repeats', '2', '--warmup', '0', '--no-ceiling'], {
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...sameMesaCache(), XDG_CACHE_HOME: cache, TESSERA_TUNE: 'auto' },
      timeoutMs: 280_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l === '… tuning default')).toHaveLength(1);
    expect(lines).toContain('… default: the same kernel sources as default, whose tuned choices it reuses');
    const kernels = lines.filter((l) => l.startsWith('kernels of default: '));
    expect(kernels).toHaveLength(2);
    expect(kernels[0]).toMatch(/gemm\w*\[/);
    expect(kernels[1]).toBe(kernels[0]);
    expect(lines).toContain('every variant ran the same kernels');
  }, 300_000);
});
