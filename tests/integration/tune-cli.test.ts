// `tessera tune`, `--no-tune`, `tessera info`'s tuning section and `tessera bench … --variants` (gemm, attention, conv, block),
// through the CLI (child processes: an integration test). The tuning cache goes to a temporary
// XDG_CACHE_HOME, never the user's. Tiny shapes, so the few variants compile in seconds.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { subgroupsOf8 } from '../../src/gpu/policy.js';
import { kernelsAt } from '../../src/cli/bench-ref.js';
import { tesseraInProcess } from '../helpers/cli.js';
import { sameMesaCache } from '../helpers/mesa-cache.js';

const root = join(import.meta.dirname, '..', '..');
const cache = join(root, 'tests', '.tmp', 'tune-cli-cache');

// Asynchronous (not spawnSync): a blocked test worker misses vitest's RPC deadlines on a busy machine.
function tessera(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { TESSERA_TUNE: _off, ...rest } = process.env; // the tests' own 'off' would hide what is tested
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'tessera.mjs'), ...args], {
      cwd: root,
      env: { ...rest, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...sameMesaCache(), XDG_CACHE_HOME: cache, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
/**
 * `tessera ...args` through the CLI's entry in this process (tests/helpers/cli.ts tesseraInProcess), with the env
 * tessera() gives a spawn: for refusals before any GPU work, where a spawn only added a Node start and a module load.
 * Not for what depends on XDG_CACHE_HOME or HOME (the tuning cache's place is read once per process).
 */
const inProcess = (env: Record<string, string>, ...args: string[]) => tesseraInProcess(args, { env: { TESSERA_TUNE: undefined, XDG_CACHE_HOME: cache, ...env } });
const lastJson = (s: string) => JSON.parse(s.trim().split('\n').pop()!);
const scratch = join(root, 'tests', '.tmp', 'tune-cli-scratch-tree');

/**
 * A git tree holding only `files` (path → text), in a scratch object store of its own: the CLI
 * reads it as a revision through GIT_ALTERNATE_OBJECT_DIRECTORIES, and this checkout's
 * repository gets no objects and no refs.
 */
function scratchTree(files: Record<string, string>): { tree: string; env: Record<string, string> } {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const gitDir = join(scratch, 'objects.git');
  execFileSync('git', ['init', '-q', '--bare', gitDir]);
  const git = (args: string[], input?: string) => execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8', ...(input !== undefined ? { input } : {}) }).trim();
  // one level of folders is enough here: kernels/NAME.wgsl
  const entries = Object.entries(files).map(([path, text]) => {
    const [dir, name] = path.split('/') as [string, string];
    const file = join(scratch, name);
    writeFileSync(file, text);
    return { dir, name, blob: git(['hash-object', '-w', file]) };
  });
  const dirs = [...new Set(entries.map((e) => e.dir))].map((dir) => {
    const sub = git(['mktree'], entries.filter((e) => e.dir === dir).map((e) => `100644 blob ${e.blob}\t${e.name}\n`).join(''));
    return `040000 tree ${sub}\t${dir}\n`;
  });
  return { tree: git(['mktree'], dirs.join('')), env: { GIT_ALTERNATE_OBJECT_DIRECTORIES: join(gitDir, 'objects') } };
}

describe('tessera tune: a cache it cannot save', () => {
  it('XDG_CACHE_HOME a file: refused before anything is timed, one line naming the path and XDG_CACHE_HOME (exit 2)', async () => {
    mkdirSync(join(root, 'tests', '.tmp'), { recursive: true });
    const file = join(root, 'tests', '.tmp', 'tune-cli-xdg-is-a-file');
    writeFileSync(file, 'x');
    try {
      const r = await tessera({ XDG_CACHE_HOME: file }, 'tune', '--quick', '--rounds', '1');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([`tessera: error: UsageError: tessera tune: cannot save the tuning cache at ${join(file, 'tessera', 'tune.json')}: ${file} (a part of the path) is a file, expected a folder (XDG_CACHE_HOME=${file}); set XDG_CACHE_HOME to a writable folder (an absolute path)`]);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

describe('tessera tune: a relative XDG_CACHE_HOME', () => {
  it('is ignored (the XDG spec), and the refusal says so rather than naming it as the folder used (exit 2)', async () => {
    // HOME whose .cache is a file: the ~/.cache fallback cannot be saved to either
    const home = join(root, 'tests', '.tmp', 'tune-cli-home-cache-is-a-file');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, '.cache'), 'x');
    try {
      const r = await tessera({ XDG_CACHE_HOME: 'relcache', HOME: home }, 'tune', '--quick', '--rounds', '1');
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([`tessera: error: UsageError: tessera tune: cannot save the tuning cache at ${join(home, '.cache', 'tessera', 'tune.json')}: ${join(home, '.cache')} (a part of the path) is a file, expected a folder (XDG_CACHE_HOME=relcache is relative, so ignored: ~/.cache); set XDG_CACHE_HOME to a writable folder (an absolute path)`]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasGpu)('tessera tune / --no-tune / info / bench --variants', () => {
  // One `bench gemm --variants all` at 9×12×10, run once for the two tests that read it (each spawned its own,
  // the same command but --repeats). TESSERA_TUNE=off: nothing at this size is tuned either way.
  let gemmAllRun: ReturnType<typeof tessera> | undefined;
  const gemmAll = () => (gemmAllRun ??= tessera({ TESSERA_TUNE: 'off' }, 'bench', 'gemm', '--m', '9', '--k', '12', '--n', '10', '--variants', 'all', '--json', '--repeats', '2', '--warmup', '0', '--no-ceiling'));

  it('tune --quick times and caches choices; info shows them; --no-tune shows none', async () => {
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    // --quiet with autotuning (a fresh cache: every candidate is compiled and timed): nothing on stderr (no
    // "tuning on", candidate or compile lines), one JSON line on stdout (was cli-ux.test.ts's own tune run)
    const t = await tessera({}, 'tune', '--quick', '--json', '--rounds', '1', '--quiet');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toBe('');
    expect(t.stdout.trim().split('\n')).toHaveLength(1);
    const j = lastJson(t.stdout);
    expect(j.choices).toHaveLength(2); // --quick: the list's first two shapes, one bucket each
    for (const c of j.choices) {
      expect(c.family).toBe('gemm');
      expect(Object.keys(c.ms)).toContain(c.choice);
    }
    const file = join(cache, 'tessera', 'tune.json');
    expect(existsSync(file)).toBe(true);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(stored.entries).length).toBe(j.choices.length);

    const info = lastJson((await tessera({}, 'info', '--json')).stdout);
    expect(info.tuning.mode).toBe('auto');
    expect(info.tuning.min_flops).toBe(2 ** 24); // TUNE_MIN_FLOPS: a run's own tuning skips smaller calls
    expect(Object.values(info.tuning.choices).map((e) => (e as { choice: string }).choice).sort()).toEqual(j.choices.map((c: { choice: string }) => c.choice).sort());
    expect(info.tuning.heuristics.length).toBeGreaterThan(0);
    const off = lastJson((await tessera({}, 'info', '--json', '--no-tune')).stdout);
    expect(off.tuning.mode).toBe('off');
    expect(off.tuning.choices).toEqual({});
    // again, as text: everything cached, nothing timed (every choice line "(cached)", "0 timed now"), none of
    // --quick's two shapes skipped (the summary has no "; N of the list's shapes skipped": they fit every
    // adapter); the choices and the summary on stdout, progress ("tuning on …") on stderr as every command's
    const text = await tessera({}, 'tune', '--quick', '--rounds', '1');
    expect(text.code, text.stderr).toBe(0);
    const out = text.stdout.trim().split('\n');
    expect(out.slice(0, -1)).toHaveLength(j.choices.length);
    expect(out.slice(0, -1).every((l) => /^gemm M\d+ N\d+ K\d+ \[\S+ M\d+ N\d+ K\d+\b.*\] → \S+ = .*\(cached\)$/.test(l)), text.stdout).toBe(true);
    expect(out.at(-1)).toMatch(new RegExp(`^${j.choices.length} choices \\(0 timed now\\) in \\d+\\.\\d s$`));
    expect(text.stderr).toMatch(/^tuning on .*; cache: /m);
  }, 600_000);

  it('bench gemm --variants all: every strategy checked, then timed round-robin in one process', async () => {
    const r = await gemmAll();
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.variants).toBe(true);
    expect(j.wrong).toEqual([]);
    const names = j.results.map((x: { variant: string }) => x.variant);
    expect(names).toEqual(expect.arrayContaining(['tiled-128', 'tiled-64', 'gemv']));
    for (const x of j.results) {
      expect(x.median_ms).toBeGreaterThan(0);
      expect(x.check.max_abs_err).toBeLessThan(1e-4);
    }
    expect(j.results[0].speedup).toBe(1);
  }, 600_000);

  it('bench attention --variants all: the rows kernel and FlashAttention-2 style (subgroup and workgroup-memory sums), each checked', async () => {
    const r = await tessera({}, 'bench', 'attention', '--heads', '2', '--tokens', '19', '--kv-tokens', '7', '--head-dim', '12', '--variants', 'all', '--json', '--repeats', '1', '--warmup', '0', '--no-ceiling');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.wrong).toEqual([]);
    const names = j.results.map((x: { variant: string }) => x.variant);
    expect(names).toEqual(expect.arrayContaining(['rows', 'fa2-wg']));
    expect(j.results.find((x: { variant: string }) => x.variant === 'fa2-wg').kernel).toMatch(/^attention_fa2/);
    for (const x of j.results) expect(x.check.max_abs_err).toBeLessThan(1e-4);
  }, 600_000);

  it("bench conv --variants 'PX=4;PX=8@HEAD': the VAE's causal 3×3×3 conv, both variants checked then timed interleaved", async () => {
    const r = await tessera({}, 'bench', 'conv', '--height', '5', '--width', '7', '--in-channels', '8', '--out-channels', '6', '--variants', 'PX=4;PX=8@HEAD', '--repeats', '2', '--warmup', '0', '--no-ceiling', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.bench).toBe('conv');
    expect(j.label).toBe('conv 5×7 8→6 k3×3×3 f32');
    expect(j.args).toEqual({ height: 5, width: 7, in_channels: 8, out_channels: 6, kernel: '3x3x3' });
    expect(j.wrong).toEqual([]);
    expect(j.results.map((x: { variant: string; kernel: string }) => [x.variant, x.kernel])).toEqual([
      ['PX=4', 'conv[VEC4]{PX=4,WG=64}'],
      ['PX=8@HEAD', 'conv[VEC4]{PX=8,WG=64}'],
    ]);
    for (const x of j.results) {
      expect(x.median_ms).toBeGreaterThan(0);
      expect(x.check.rows).toBe(5);
      expect(x.check.max_abs_err).toBeLessThan(1e-4);
    }
    expect(r.stderr).toMatch(/PX=8@HEAD: kernels differing from this checkout at HEAD: /);
  }, 300_000);

  it("bench block --variants 'default@HEAD;default': each set of kernel sources tuned afresh (identical ones once), the tuning cache untouched", async () => {
    const file = join(cache, 'tessera', 'tune.json');
    const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
    const r = await tessera({}, 'bench', 'block', '--hidden', '16', '--heads', '2', '--tokens', '9', '--variants', 'default@HEAD;default', '--repeats', '2', '--warmup', '0', '--no-ceiling', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.bench).toBe('block');
    expect(j.wrong).toEqual([]);
    expect(j.results.map((x: { variant: string; kernel: string }) => [x.variant, x.kernel])).toEqual([
      ['default@HEAD', '8 dispatches'],
      ['default', '8 dispatches'],
    ]);
    for (const x of j.results) {
      expect(x.median_ms).toBeGreaterThan(0);
      expect(x.check.max_abs_err).toBeLessThan(1e-4);
    }
    // HEAD's kernels equal to this checkout's: one tuning, whose choices the second entry reuses (bench-variants-cli.test.ts)
    if (kernelsAt('HEAD').size) expect(r.stderr).toMatch(/… tuning default@HEAD\n[^]*… tuning default\n/);
    else expect(r.stderr).toMatch(/… tuning default@HEAD\n[^]*… default: the same kernel sources as default@HEAD, whose tuned choices it reuses\n/);
    expect(existsSync(file) ? readFileSync(file, 'utf8') : null).toBe(before);
  }, 300_000);

  it('an A/B whose revision has a WGSL error after an #if block: the entry, its revision, the variant key and kernels/gemm_tiled.wgsl:LINE of that revision', async () => {
    const src = readFileSync(join(root, 'kernels', 'gemm_tiled.wgsl'), 'utf8').split('\n');
    const endif = src.findIndex((l) => l.startsWith('#endif'));
    expect(endif).toBeGreaterThan(0);
    src.splice(endif + 1, 0, 'const broken_here: f32 = ;');
    const line = endif + 2; // 1-based line of the inserted text, after the #if block (and after the preludes in the compiled text)
    const { tree, env } = scratchTree({ 'kernels/gemm_tiled.wgsl': src.join('\n') });
    try {
      const r = await tessera({ TESSERA_TUNE: 'off', ...env }, 'bench', 'gemm', '--m', '9', '--k', '12', '--n', '10', '--variants', `default;tiled-64@${tree}`, '--repeats', '1', '--warmup', '0', '--no-ceiling');
      expect(r.code, r.stderr).toBe(1);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('tessera: error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(
        new RegExp(
          `^tessera: error: ShaderError: --variants "tiled-64@${tree}" \\(kernel sources of ${tree}\\): gemm_tiled\\[VEC4\\]\\{BK=16,TM=4,TN=4,WGX=16,WGY=16\\}: pipeline creation failed: kernels/gemm_tiled\\.wgsl:${line}:\\d+: .*initializer`,
        ),
      );
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 300_000);

  it.skipIf(!gpu || !subgroupsOf8(gpu))('bench gemm --variants all at a K without a compiled-in-K variant: the -k candidates are left out (said in one line), no kernel is timed twice', async () => {
    const r = await gemmAll();
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    const names = j.results.map((x: { variant: string }) => x.variant);
    expect(names).toContain('subgroup-sr16');
    expect(names).toContain('subgroup-sr32');
    expect(names.filter((n: string) => n.endsWith('-k'))).toEqual([]);
    const kernels = j.results.map((x: { kernel: string }) => x.kernel);
    expect(new Set(kernels).size).toBe(kernels.length);
    expect(r.stderr.split('\n')).toContain('… --variants all: subgroup-sr16-k, subgroup-sr32-k, subgroup-sr32-swg32-k left out: --k 12 has no compiled-in-K variant (K 384, 1152, 1536, 4608), where they run as subgroup-sr16, subgroup-sr32, subgroup-sr32-swg32');
  }, 300_000);

  it.skipIf(!gpu || !subgroupsOf8(gpu))('bench gemm --variants naming a -k candidate: timed with K compiled in where K has a variant (a kernel of its own), refused before any GPU work where not', async () => {
    let r = await tessera({ TESSERA_TUNE: 'off' }, 'bench', 'gemm', '--m', '9', '--k', '384', '--n', '10', '--variants', 'subgroup-sr16;subgroup-sr16-k', '--json', '--repeats', '1', '--warmup', '0', '--no-ceiling');
    expect(r.code, r.stderr).toBe(0);
    const kernels = lastJson(r.stdout).results.map((x: { variant: string; kernel: string }) => [x.variant, x.kernel]);
    expect(kernels[0]).toEqual(['subgroup-sr16', expect.stringMatching(/^gemm_subgroup\[VEC4\]\{KC=0,.*SR=16,/)]);
    expect(kernels[1]).toEqual(['subgroup-sr16-k', expect.stringMatching(/^gemm_subgroup\[VEC4\]\{KC=96,.*SR=16,/)]);
    r = await inProcess({}, 'bench', 'gemm', '--m', '9', '--k', '12', '--n', '10', '--variants', 'subgroup-sr16;subgroup-sr32-k', '--repeats', '1', '--warmup', '0', '--no-ceiling');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual(['tessera: error: UsageError: --variants: subgroup-sr32-k compiles K in, but --k 12 has no compiled-in-K variant (K 384, 1152, 1536, 4608): it would run as subgroup-sr32; name that instead']);
  }, 300_000);

  it('refuses bad --variants with one line', async () => {
    const bad = (...a: string[]) => inProcess({}, 'bench', ...a);
    let r = await bad('attention', '--heads', '1', '--tokens', '4', '--head-dim', '8', '--variants', 'tiled-64');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--variants: tiled-64 is a GEMM strategy; bench attention takes an attention strategy \(rows, fa2, fa2-wg, rows-dh\) or tile knobs/);
    r = await bad('gemm', '--m', '4', '--k', '4', '--n', '4', '--variants', 'fa2');
    expect(r.stderr).toMatch(/--variants: fa2 is an attention strategy; bench gemm takes a GEMM strategy/);
    r = await bad('gemm', '--m', '4', '--k', '4', '--n', '4', '--variants', 'tiled-64', '--tile', 'TM=4');
    expect(r.stderr).toMatch(/give --tile or --variants, not both/);
    r = await bad('gemm', '--m', '4', '--k', '4', '--n', '4', '--variants', 'fast');
    expect(r.stderr).toMatch(/"fast" is not an entry of bench gemm; it takes default, a GEMM strategy/);
    r = await bad('conv', '--height', '4', '--width', '4', '--in-channels', '4', '--out-channels', '4', '--variants', 'PX=4;PX=16');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tessera: error: UsageError: --variants "PX=16": bench conv knob PX=16 is not a declared value \(PX=4\|8\)$/m);
    r = await bad('layernorm', '--rows', '4', '--cols', '4', '--variants', 'all');
    expect(r.stderr).toMatch(/--variants does not apply/);
  }, 300_000);
});
