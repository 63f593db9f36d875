// scripts/gpu-check.sh without a GPU or a full prepare (minutes of xz): its atomic `pack` step (what
// prepare compresses node and Dawn with), its `stamp` step and `run`'s refusal of a .gpu-check that
// is damaged or was built from other sources, in one line before any step; runs with a stand-in
// node (budget, exit status, the stop on a CPU adapter, what a killed run leaves in $OUT), usage
// errors, `collect`, prepare's check of an explicit golden folder, and the report's WRONG and NOT
// MEASURED lines. GPU_CHECK_DIR points the script at a scratch .gpu-check, never the checkout's;
// runs use a copy of the scripts in a scratch git tree (src/, kernels/), so its stamp is theirs.
// Each run's TMPDIR (where the script makes its per-run folders) is a folder of this file's own,
// the only place it looks for leftovers, so copies of it and real runs can go on beside it. No
// assertion reads a clock: the one budget that must run out is spent by a hung step, with 25 s
// of headroom for what runs before it, and the seconds a step got are read from the script's own
// lines, never assumed.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = resolve('scripts/gpu-check.sh');
const REPORT = resolve('scripts/gpu-check-report.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'gpu-check-test-'));
afterAll(async () => {
  await budgetRun?.catch(() => undefined); // (its run writes into scratch until it ends)
  rmSync(scratch, { recursive: true, force: true });
});

function sh(args: string[], env: Record<string, string> = {}, script = SCRIPT) {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter(Boolean);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines, errLines: r.stderr.split('\n').filter(Boolean) };
}
const xzTest = (p: string) => spawnSync('xz', ['-t', p]).status;
const unxz = (p: string) => spawnSync('xz', ['-dc', p], { maxBuffer: 1 << 26 }).stdout as Buffer;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const bash = (cmd: string, cwd: string) => {
  const r = spawnSync('bash', ['-c', cmd], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
};
// a source that does not compress to nothing: pseudo-random bytes, 2 MiB
function source(name: string, seed = 1): string {
  const b = Buffer.alloc(2 << 20);
  let x = seed;
  for (let i = 0; i < b.length; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const p = join(scratch, name);
  writeFileSync(p, b);
  utimesSync(p, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  return p;
}

// a scratch checkout: scripts/ (this tree's gpu-check.sh and report), src/ and kernels/, one commit
function tree(name: string): { root: string; script: string; commit: string } {
  const root = join(scratch, name);
  mkdirSync(join(root, 'scripts'), { recursive: true });
  mkdirSync(join(root, 'src'), { recursive: true });
  mkdirSync(join(root, 'kernels'), { recursive: true });
  copyFileSync(SCRIPT, join(root, 'scripts/gpu-check.sh'));
  copyFileSync(REPORT, join(root, 'scripts/gpu-check-report.mjs'));
  writeFileSync(join(root, 'src/a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'kernels/k.wgsl'), '// kernel\n');
  writeFileSync(join(root, '.gitignore'), 'src/kernels.gen.ts\n');
  bash('git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm init', root);
  return { root, script: join(root, 'scripts/gpu-check.sh'), commit: bash('git rev-parse HEAD', root).trim() };
}
type Tree = ReturnType<typeof tree>;
const T = tree('tree');

// a scratch .gpu-check: node.xz holding `node` (a file's text), the other carried files, the stamp
// of tree `t` (unless stamp is false) and SHA256SUMS as prepare writes them (unless sums is false)
function carried(name: string, node: string, opts: { sums?: boolean; stamp?: boolean; t?: Tree } = {}): string {
  const g = join(scratch, name);
  const t = opts.t ?? T;
  mkdirSync(join(g, 'node_modules/webgpu/dist/linux-x64'), { recursive: true });
  writeFileSync(join(g, 'node'), node);
  bash('xz -c node >node.xz && rm node && echo x | xz -c >node_modules/webgpu/dist/linux-x64/dawn.node.xz && echo "// bundle" >tessera.mjs && echo >node_modules/webgpu/index.js && echo "{}" >node_modules/webgpu/package.json', g);
  if (opts.stamp !== false) expect(sh(['stamp', g], {}, t.script).status).toBe(0);
  if (opts.sums !== false) bash('find . -type f ! -name SHA256SUMS ! -name "*.tmp" -print0 | sort -z | xargs -0 sha256sum >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS', g);
  return g;
}

// A run's environment: its .gpu-check, $OUT, a TMPDIR of its own (empty: it is where the script's
// per-run folders go) and an nvidia-smi stand-in that answers at once as a machine without one (a
// real one, or a slow one, would only add to the set-up the budget counts)
const BIN = join(scratch, 'bin');
mkdirSync(BIN);
writeFileSync(join(BIN, 'nvidia-smi'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
function runEnv(g: string, env: Record<string, string> = {}) {
  const tmp = mkdtempSync(join(scratch, 'tmpdir-'));
  return { tmp, out: join(g, 'out'), env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, GPU_CHECK_DIR: g, OUT: join(g, 'out'), TMPDIR: tmp, ...env } };
}

// A stand-in node: answers the unpack checks, hands the report to the real node and answers each
// tessera subcommand (its second argument, e.g. `info`, `tune`, `bench`) with `cases`, shell case
// arms after `case "$2 $3" in` (the default: print {}).
function standin(cases: string[]): string {
  return [
    '#!/usr/bin/env bash',
    `case "$1" in --version) echo v0; exit 0 ;; -e) exit 0 ;; *gpu-check-report.mjs) exec "${process.execPath}" "$@" ;; esac`,
    'case "$2 $3" in',
    ...cases.map((c) => `  ${c}`),
    "  *) echo '{}' ;;",
    'esac',
  ].join('\n');
}
const GPU_INFO = `info*) echo '{"adapter":{"summary":"nvidia / hopper / NVIDIA H200"},"features":{"subgroups":true},"limits":{"maxStorageBufferBindingSize":4294967292,"maxComputeWorkgroupStorageSize":32768},"adapter_policy":{"cpu":false,"subgroup_min_size":32,"subgroup_max_size":32}}' ;;`;
const CPU_INFO = `info*) echo '{"adapter":{"summary":"mesa / software / llvmpipe"},"features":{},"limits":{},"adapter_policy":{"cpu":true,"subgroup_min_size":8,"subgroup_max_size":8}}' ;;`;
// (spawned, not spawnSync: a run takes tens of seconds, and a blocked worker misses vitest's calls)
async function runStandin(name: string, cases: string[], args: string[], env: Record<string, string> = {}) {
  const g = carried(name, standin(cases));
  const { tmp, out, env: runenv } = runEnv(g, env);
  const p = spawn('bash', [T.script, 'run', ...args], { env: runenv });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  const status = await new Promise<number | null>((ok) => p.on('close', (code) => ok(code)));
  const lines = `${stdout}${stderr}`.split('\n').filter(Boolean);
  const r = { status, stdout, stderr, lines, errLines: stderr.split('\n').filter(Boolean) };
  // the per-run folders are gone whatever the outcome
  expect(readdirSync(tmp)).toEqual([]);
  const file = (f: string) => (existsSync(join(out, f)) ? readFileSync(join(out, f), 'utf8') : '');
  return { ...r, g, out, tmp, file };
}

// The budget run ('keeps to its budget' below) spends its whole 30 s budget in a hung step: it
// starts before this file's first test, so that wait passes while the other tests run (they spawn
// synchronously; its child goes on meanwhile), and its test, the file's last, awaits it. Alone and
// quiet the file took 45 s, 31 s of them that wait; in a cold `npm test`, 58–64 s (33 s the wait).
const pidfile = join(scratch, 'sleeper.pid');
let budgetRun: ReturnType<typeof runStandin> | undefined;
beforeAll(() => {
  // `tune` hangs with a child in a session of its own (as check-cases.sh's per-case timeout is)
  // `info` also leaves a tune cache and a driver's shader cache in $XDG_CACHE_HOME
  const info = 'info*) mkdir -p "$XDG_CACHE_HOME/tessera" "$XDG_CACHE_HOME/mesa_shader_cache"; echo {} >"$XDG_CACHE_HOME/tessera/tune.json"; echo x >"$XDG_CACHE_HOME/mesa_shader_cache/db"; echo \'{"adapter":{"summary":"stand-in"},"features":{}}\' ;;';
  // tune (a 300 s cap with --quick) hangs: its cap is whatever is left of the 30 s budget, so it
  // spends it and every later step is skipped. What runs before it (the set-up, info, two
  // reports) takes seconds; only 25 s of it would leave tune skipped instead
  budgetRun = runStandin('standin', [info, `tune*) setsid sleep 120 & echo $! >"${pidfile}"; sleep 120 ;;`], ['--quick'], { GPU_CHECK_BUDGET: '30' });
  budgetRun.catch(() => undefined); // (awaited, and so reported, by its test)
});

describe('gpu-check.sh pack (prepare compresses node and Dawn with it)', () => {
  it('writes a tested archive under the final name only, keeps an intact one, and re-makes a truncated one', () => {
    const src = source('node-src');
    const dest = join(scratch, 'node.xz');
    let r = sh(['pack', src, dest]);
    expect(r.status).toBe(0);
    expect(xzTest(dest)).toBe(0);
    expect(unxz(dest).equals(readFileSync(src))).toBe(true);
    expect(existsSync(`${dest}.tmp`)).toBe(false);

    r = sh(['pack', src, dest]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${dest} is up to date`);

    // what an interrupted `xz -c >node.xz` used to leave: a short file newer than its source
    truncateSync(dest, Math.floor(statSync(dest).size / 2));
    expect(xzTest(dest)).not.toBe(0);
    r = sh(['pack', src, dest]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`[prepare] WARNING: ${dest} is damaged or stale (xz -t / size check failed): compressing it again`);
    expect(xzTest(dest)).toBe(0);
    expect(unxz(dest).equals(readFileSync(src))).toBe(true);
    expect(existsSync(`${dest}.tmp`)).toBe(false);
  });

  it('re-makes an intact archive of another file (a different size than its source)', () => {
    const src = source('dawn-src', 7);
    const dest = join(scratch, 'dawn.node.xz');
    spawnSync('bash', ['-c', `head -c 1000 "${src}" | xz -c >"${dest}"`]);
    expect(xzTest(dest)).toBe(0);
    const r = sh(['pack', src, dest]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('damaged or stale');
    expect(unxz(dest).equals(readFileSync(src))).toBe(true);
  });

  it('refuses a missing source in one line', () => {
    const r = sh(['pack', join(scratch, 'nope'), join(scratch, 'nope.xz')]);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: pack: no file ${join(scratch, 'nope')}`]);
    expect(existsSync(join(scratch, 'nope.xz'))).toBe(false);
  });
});

describe('gpu-check.sh run refuses a damaged or stale .gpu-check in one line, before any step', () => {
  const runIn = (g: string, t: Tree = T) => {
    const { tmp, out, env } = runEnv(g);
    const r = sh(['run'], env, t.script);
    // no step ran, nothing was reported, and no per-run folder was left behind
    expect(existsSync(join(out, 'gpu-check.md'))).toBe(false);
    expect(existsSync(join(out, 'steps.txt'))).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
    return r;
  };

  it('no .gpu-check at all', () => {
    const g = join(scratch, 'absent');
    const r = runIn(g);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: no ${g} here: run scripts/gpu-check.sh prepare first (and carry .gpu-check)`]);
  });

  it('no SHA256SUMS (prepare did not finish)', () => {
    const g = carried('unfinished', 'x', { sums: false });
    const r = runIn(g);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: ${g}/SHA256SUMS is missing (prepare did not finish): run scripts/gpu-check.sh prepare again and carry .gpu-check`]);
  });

  it('a truncated node.xz', () => {
    const g = carried('truncated', 'y'.repeat(100_000));
    truncateSync(join(g, 'node.xz'), 40);
    const r = runIn(g);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: ${g} is damaged (node.xz: FAILED): run scripts/gpu-check.sh prepare again and carry .gpu-check`]);
  });

  it('a missing carried file', () => {
    const g = carried('missing', 'z');
    rmSync(join(g, 'tessera.mjs'));
    const r = runIn(g);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: ${g} is damaged (tessera.mjs: FAILED open or read): run scripts/gpu-check.sh prepare again and carry .gpu-check`]);
  });

  it('no stamp (a .gpu-check from before stamps: the code in its bundle is unknown)', () => {
    const g = carried('unstamped', 'x', { stamp: false });
    const r = runIn(g);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: ${g} has no STAMP (prepared by an older gpu-check.sh: the code its bundle holds is unknown): run scripts/gpu-check.sh prepare again and carry .gpu-check`]);
  });

  it('src/ and kernels/ here are not what the stamp says was bundled: changed, missing, added files', () => {
    const t = tree('stale-tree');
    const g = carried('stale', 'x', { t });
    // the stamp: HEAD, clean, the sha256 of the manifest of the two travelling files
    const stamp = readFileSync(join(g, 'STAMP'), 'utf8');
    expect(stamp).toMatch(new RegExp(`^commit ${t.commit}\ndirty no\nsource [0-9a-f]{64}\nprepared \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\dZ\n$`));
    expect(readFileSync(join(g, 'source.sha256'), 'utf8').split('\n').filter(Boolean).map((l) => l.slice(66))).toEqual(['kernels/k.wgsl', 'src/a.ts']);
    // an ignored generated file (src/kernels.gen.ts) is not part of it, here or there
    writeFileSync(join(t.root, 'src/kernels.gen.ts'), '// generated\n');
    writeFileSync(join(t.root, 'src/a.ts'), 'export const a = 2;\n');
    let r = runIn(g, t);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: src/ and kernels/ here differ from what ${g} was prepared from (commit ${t.commit.slice(0, 12)}): src/a.ts changed: run scripts/gpu-check.sh prepare again and carry .gpu-check`]);
    rmSync(join(t.root, 'kernels/k.wgsl'));
    writeFileSync(join(t.root, 'src/b.ts'), 'export const b = 1;\n');
    writeFileSync(join(t.root, 'src/c.ts'), 'export const c = 1;\n');
    r = runIn(g, t);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: src/ and kernels/ here differ from what ${g} was prepared from (commit ${t.commit.slice(0, 12)}): kernels/k.wgsl missing, src/a.ts changed, src/b.ts added, 1 more: run scripts/gpu-check.sh prepare again and carry .gpu-check`]);
    // stamped from this dirty tree: dirty yes, and the same tree then passes the check (to the node check)
    const g2 = carried('stale-dirty', 'not an executable\n', { t });
    expect(readFileSync(join(g2, 'STAMP'), 'utf8')).toContain('\ndirty yes\n');
    r = runIn(g2, t);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^gpu-check: the carried node \(.*\/node\.xz\) does not run here: /);
  });

  it('an intact archive whose node does not run', () => {
    const g = carried('notnode', 'not an executable\n');
    const r = runIn(g);
    expect(r.status).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(new RegExp(`^gpu-check: the carried node \\(${g}/node\\.xz\\) does not run here: `));
  });

  it('a TMPDIR it cannot make its per-run folders in', () => {
    const g = carried('no-tmpdir', standin([]));
    const tmp = join(scratch, 'no-such-tmpdir');
    const r = sh(['run'], { ...runEnv(g).env, TMPDIR: tmp }, T.script);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: could not make its work folders in ${tmp} ($TMPDIR, else /tmp): mktemp failed`]);
    expect(existsSync(tmp)).toBe(false);
    expect(existsSync(join(g, 'out', 'steps.txt'))).toBe(false);
  });
});

describe('gpu-check.sh usage errors: one line, exit 2', () => {
  it('run refuses an argument it does not know (a typo of --quick never starts the full run)', () => {
    const g = carried('typo', 'x');
    const out = join(g, 'out');
    const r = sh(['run', '--quik'], { GPU_CHECK_DIR: g, OUT: out, GPU_CHECK_BUDGET: '1' }, T.script);
    expect(r.status).toBe(2);
    expect(r.lines).toEqual([`gpu-check: run takes only --quick, not '--quik'`]);
    expect(existsSync(out)).toBe(false);
    expect(sh(['run', '--quick', 'extra'], { GPU_CHECK_DIR: g, OUT: out }, T.script).lines).toEqual([`gpu-check: run takes only --quick, not 'extra'`]);
  });

  it('collect without DIR, or with two', () => {
    for (const args of [['collect'], ['collect', 'a', 'b']]) {
      const r = sh(args);
      expect(r.status).toBe(2);
      expect(r.lines).toEqual(['gpu-check: usage: scripts/gpu-check.sh collect DIR (the folder holding gpu-check.md)']);
    }
  });

  it('pack and stamp without their arguments', () => {
    let r = sh(['pack', 'only-one']);
    expect(r.status).toBe(2);
    expect(r.lines).toEqual(['gpu-check: usage: scripts/gpu-check.sh pack SRC DEST']);
    r = sh(['stamp']);
    expect(r.status).toBe(2);
    expect(r.lines).toEqual(['gpu-check: usage: scripts/gpu-check.sh stamp DIR']);
  });

  it('a budget that is not whole seconds', () => {
    const g = carried('budget', standin([]));
    const r = sh(['run', '--quick'], { GPU_CHECK_DIR: g, OUT: join(g, 'out'), GPU_CHECK_BUDGET: '5m' }, T.script);
    expect(r.status).toBe(2);
    expect(r.lines).toEqual([`gpu-check: GPU_CHECK_BUDGET must be whole seconds, not '5m'`]);
  });
});

describe('gpu-check.sh collect', () => {
  const results = join(scratch, 'RESULTS.md');
  const report = (name: string, body: string) => {
    const d = join(scratch, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'gpu-check.md'), body);
    return d;
  };
  it('appends a report once: a second collect of it appends nothing', () => {
    writeFileSync(results, '# Results\n');
    const d = report('collect-ok', '## GPU check (full) — 2026-12-02 03:00 UTC, nvidia / hopper / NVIDIA H200\n\n- Steps: info rc=0 1s.\n');
    let r = sh(['collect', d], { GPU_CHECK_RESULTS: results });
    expect(r.status).toBe(0);
    expect(r.lines).toEqual([`appended ${d}/gpu-check.md to ${results}`]);
    const once = readFileSync(results, 'utf8');
    expect(once).toBe('# Results\n\n## GPU check (full) — 2026-12-02 03:00 UTC, nvidia / hopper / NVIDIA H200\n\n- Steps: info rc=0 1s.\n');
    r = sh(['collect', d], { GPU_CHECK_RESULTS: results });
    expect(r.status).toBe(0);
    expect(r.lines).toEqual([`${results} already has this section (## GPU check (full) — 2026-12-02 03:00 UTC, nvidia / hopper / NVIDIA H200): nothing appended`]);
    expect(readFileSync(results, 'utf8')).toBe(once);
    // DIR relative to where collect is called from (the script itself runs from the checkout)
    const rel = spawnSync('bash', [SCRIPT, 'collect', 'collect-ok'], { cwd: scratch, encoding: 'utf8', env: { ...process.env, GPU_CHECK_RESULTS: results } });
    expect(rel.status).toBe(0);
    expect(rel.stdout).toBe(`${results} already has this section (## GPU check (full) — 2026-12-02 03:00 UTC, nvidia / hopper / NVIDIA H200): nothing appended\n`);
  });

  it('never appends an empty report or one that is not a gpu-check section', () => {
    writeFileSync(results, '# Results\n');
    let d = report('collect-empty', '\n\n');
    let r = sh(['collect', d], { GPU_CHECK_RESULTS: results });
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: ${d}/gpu-check.md is empty (the report failed? see ${d}/log.txt): nothing appended`]);
    d = report('collect-other', 'gpu-check: the report failed\n');
    r = sh(['collect', d], { GPU_CHECK_RESULTS: results });
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: ${d}/gpu-check.md does not start with a '## GPU check (…' heading (not a gpu-check report?): nothing appended`]);
    expect(readFileSync(results, 'utf8')).toBe('# Results\n');
  });
});

describe('gpu-check.sh run with a stand-in node', () => {
  it('a full run on a GPU adapter: a failed step exits 3; the report has WRONG rows, NOT MEASURED lines and the adapter policy', async () => {
    const r = await runStandin('standin-full', [
      GPU_INFO,
      `"bench suite") echo 'tessera: error: WrongResultError: attention 6×1024×64: max abs err 0.5' >&2; echo '{"bench":"suite","results":[{"label":"gemm 4096×1152×1152","kernels":["gemm_tiled"],"median_ms":1,"gflops":10000,"ceiling_share":0.3}],"failures":[{"label":"attention 6×1024×64","error":"max abs err 0.5 > tol 0.01"}]}'; exit 1 ;;`,
      `"bench model") echo 'tessera: error: out of memory' >&2; exit 1 ;;`,
      `"bench attention") case "$*" in *4096*) echo '… compiling' >&2; exit 124 ;; *) echo 'tessera: error: WrongResultError: attention 12×32760×128: max abs err 2' >&2; exit 1 ;; esac ;;`,
    ], [], { GPU_CHECK_BUDGET: '200' });
    expect(r.status, r.lines.join('\n')).toBe(3);
    expect(r.errLines.at(-1)).toBe('gpu-check: exit 3: 3 step(s) failed, 2 ran out of their time or were skipped (steps.txt)');
    const steps = r.file('steps.txt').split('\n').filter(Boolean).map((l) => l.replace(/ \d+s/, ' Ns'));
    expect(steps).toEqual([
      'info rc=0 Ns',
      `golden SKIPPED (no golden cases or checker in ${r.g})`,
      'tune rc=0 Ns', 'ceiling rc=0 Ns', 'gemm_variants rc=0 Ns', 'gemm_variants_f16 rc=0 Ns',
      'suite rc=1 Ns',
      'attention_4k rc=124 Ns (ran out of its 10 s)',
      'attention_32k rc=1 Ns',
      'block_4k rc=0 Ns',
      'wan_480p rc=1 Ns',
    ]);
    const md = r.file('gpu-check.md');
    expect(md).toMatch(/^## GPU check \(full\) — .* UTC, nvidia \/ hopper \/ NVIDIA H200\n/);
    expect(md).toContain('- Adapter policy: GPU adapter (cpu: false; no CPU-tuned variant by heuristic); subgroup sizes 32..32; limits: maxStorageBufferBindingSize 4294967292, maxComputeWorkgroupStorageSize 32 KiB.');
    expect(md).toContain('| gemm 4096×1152×1152 | gemm_tiled | 1.000 | 10000.0 | 30.0% |');
    expect(md).toContain('| attention 6×1024×64 | WRONG (not timed): max abs err 0.5 > tol 0.01 | — | — | — |');
    expect(md).toContain('| attention_4k | NOT MEASURED (rc=124, ran out of its 10 s; last output: … compiling) | — | — | — |');
    expect(md).toContain('### Wan-1.3B step at 480p × 81 frames (latent 21×60×104, CFG batch 2) — `tessera bench model --preset wan-1.3b --dtype f16 --frames 21 --height 60 --width 104 --no-tune` — NOT MEASURED (rc=1: tessera: error: out of memory)');
    expect(md).toContain('| attention_32k | WRONG (not timed) (rc=1: tessera: error: WrongResultError: attention 12×32760×128: max abs err 2) | — | — | — |');
    expect(md).toContain('### NOT MEASURED — steps that gave no JSON\n\n- attention_4k — NOT MEASURED (rc=124, ran out of its 10 s; last output: … compiling)\n- attention_32k — NOT MEASURED (rc=1: tessera: error: WrongResultError: attention 12×32760×128: max abs err 2)\n- wan_480p — NOT MEASURED (rc=1: tessera: error: out of memory)\n');
    expect(md).not.toContain('INCOMPLETE');
  });

  it('a full run stops after info on a CPU adapter, in one line, exit 5 (--quick runs on)', async () => {
    let r = await runStandin('standin-cpu', [CPU_INFO], []);
    expect(r.status).toBe(5);
    const why = 'the WebGPU adapter is a CPU (mesa / software / llvmpipe), not a GPU: did the NVIDIA Vulkan driver load? (run --quick is the CPU smoke test)';
    expect(r.errLines).toEqual([`gpu-check: ${why}; the full run stops here (exit 5; ${r.out} has steps.txt, log.txt and the report)`]);
    expect(r.file('steps.txt')).toMatch(new RegExp(`^info rc=0 \\d+s\nSTOPPED the full run after info: ${why.replace(/[().?]/g, '\\$&')}\n$`));
    const md = r.file('gpu-check.md');
    expect(md).toMatch(/^## GPU check \(full, on a CPU adapter\) — /);
    expect(md).toContain(`- **STOPPED the full run after info: ${why}**`);
    expect(md).toContain('- **WARNING: the WebGPU adapter is a CPU** (adapter_policy.cpu): these are not GPU figures.');
    expect(md).toContain('- Adapter policy: CPU adapter (cpu: true; the variants measured on lavapipe apply); subgroup sizes 8..8; limits: n/a.');
    // --quick on the same adapter runs every step (here with no time for most of them)
    r = await runStandin('standin-cpu-quick', [CPU_INFO], ['--quick'], { GPU_CHECK_BUDGET: '200' });
    expect(r.status).toBe(4); // the golden cases were not carried
    expect(r.file('steps.txt')).toMatch(/^info rc=0 \d+s\ngolden SKIPPED .*\ntune rc=0 .*\nwan_step rc=0 \d+s\n$/s);
    expect(r.file('gpu-check.md')).toMatch(/^## GPU check \(quick, on a CPU adapter\) — /);
  });

  it('a full run stops after info when there is no adapter at all, naming why', async () => {
    const r = await runStandin('standin-none', [`info*) echo 'tessera: error: no WebGPU adapter: run \`npm run setup\`' >&2; exit 1 ;;`], []);
    expect(r.status).toBe(5);
    expect(r.errLines).toEqual([`gpu-check: no WebGPU adapter (rc=1: tessera: error: no WebGPU adapter: run \`npm run setup\`): see log.txt; the full run stops here (exit 5; ${r.out} has steps.txt, log.txt and the report)`]);
    expect(r.file('gpu-check.md')).toContain('- info — NOT MEASURED (rc=1: tessera: error: no WebGPU adapter: run `npm run setup`)');
  });

  it('a full run goes on when info merely ran out of its time (rc=124): exit 4, not the exit 5 of "no adapter"', async () => {
    // info ends as `timeout` ends a step it cut off, with status 124 (the script sees only that; a real
    // cut-off, budget and all, is the first test's): with the whole 360 s budget ahead, its cap is its
    // own 15 s, and every step after it runs
    const r = await runStandin('standin-slow-info', ['info*) echo \'… initialising Vulkan\' >&2; exit 124 ;;'], []);
    expect(r.status, r.lines.join('\n')).toBe(4);
    expect(r.errLines).toEqual([
      'gpu-check: tessera info rc=124, ran out of its 15 s; last output: … initialising Vulkan: the adapter is not known; the full run goes on',
      'gpu-check: exit 4: 0 step(s) failed, 2 ran out of their time or were skipped (steps.txt)',
    ]);
    expect(r.file('steps.txt').split('\n').filter(Boolean).map((l) => l.replace(/^(\S+ rc=\d+) \d+s/, '$1 Ns'))).toEqual([
      'info rc=124 Ns (ran out of its 15 s)',
      `golden SKIPPED (no golden cases or checker in ${r.g})`,
      ...['tune', 'ceiling', 'gemm_variants', 'gemm_variants_f16', 'suite', 'attention_4k', 'attention_32k', 'block_4k', 'wan_480p'].map((s) => `${s} rc=0 Ns`),
    ]);
    expect(r.file('gpu-check.md')).toContain('- info — NOT MEASURED (rc=124, ran out of its 15 s; last output: … initialising Vulkan)');
  });

  it('every copy into $OUT goes through a .tmp and a rename (the report-failure path too)', () => {
    const script = readFileSync(SCRIPT, 'utf8');
    const direct = script.split('\n').filter((l) => /\bcp\b.*"\$OUT\/[^"]*"/.test(l) && !/"\$OUT\/[^"]*\.tmp" && mv -f "\$OUT\/[^"]*\.tmp" "\$OUT\/[^"]*"/.test(l));
    expect(direct).toEqual([]);
  });

  it('a run killed in the middle of a step has already left every finished step in $OUT', async () => {
    const g = carried('standin-killed', standin([GPU_INFO, `"bench ceiling") echo '{"fma_gflops":1234.5,"copy_gbps":99}' ;;`, '"bench gemm") sleep 60 ;;']));
    const { tmp, out, env } = runEnv(g);
    // the device call's timeout: the whole process group killed, no trap runs
    const p = spawn('bash', [T.script, 'run'], { env, detached: true, stdio: 'ignore' });
    const closed = new Promise((ok) => p.on('close', ok));
    let ended = false;
    void closed.then(() => (ended = true));
    // (gemm's step starts seconds in and sleeps past its 20 s cap; vitest's timeout bounds the wait)
    while (!ended && !(existsSync(join(out, 'log.txt')) && readFileSync(join(out, 'log.txt'), 'utf8').includes('== gemm_variants ('))) {
      await new Promise((ok) => setTimeout(ok, 200));
    }
    expect(ended, 'the run ended before its gemm_variants step').toBe(false);
    process.kill(-p.pid!, 'SIGKILL');
    await closed;
    // the step's `timeout` (a process group of its own) outlives the group kill by up to its cap:
    // ended here by the tag the run gave the step's processes (GPU_CHECK_STEP=<run's pid>-<step>-…)
    for (const d of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      let environ = '';
      try { environ = readFileSync(`/proc/${d}/environ`, 'latin1'); } catch { continue; }
      if (environ.split('\0').some((v) => v.startsWith(`GPU_CHECK_STEP=${p.pid}-`))) try { process.kill(Number(d), 'SIGKILL'); } catch { /* gone */ }
    }
    // a killed run cannot clean up: it leaves its two per-run folders in its TMPDIR, removed here
    const left = readdirSync(tmp).sort();
    expect(left).toEqual([expect.stringMatching(/^gpu-check-node\.\w{6}$/), expect.stringMatching(/^gpu-check-work\.\w{6}$/)]);
    for (const n of left) rmSync(join(tmp, n), { recursive: true, force: true });
    expect(readFileSync(join(out, 'log.txt'), 'utf8')).toContain('== gemm_variants (');
    expect(readFileSync(join(out, 'steps.txt'), 'utf8')).toMatch(/^info rc=0 \d+s\ngolden SKIPPED .*\ntune rc=0 \d+s\nceiling rc=0 \d+s\n$/);
    const md = readFileSync(join(out, 'gpu-check.md'), 'utf8');
    expect(md).toMatch(/^## GPU check \(full, INCOMPLETE, written after step ceiling\) — /);
    expect(md).toContain('f32 1234.5 GFLOP/s');
    expect(bash(`tar -tzf "${join(out, 'gpu-check-raw.tar.gz')}"`, scratch)).toContain('./ceiling.json');
    expect(readdirSync(out).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('gpu-check.sh prepare --golden', () => {
  it('refuses a golden folder that does not exist, before compressing anything', () => {
    const g = join(scratch, 'prep');
    const r = sh(['prepare', '--golden', join(scratch, 'no-such-golden')], { GPU_CHECK_DIR: g });
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: golden folder ${join(scratch, 'no-such-golden')} (--golden / GPU_CHECK_GOLDEN) does not exist`]);
    expect(existsSync(g)).toBe(false);
  });

  it('refuses a golden folder without the checker beside it (GPU_CHECK_GOLDEN)', () => {
    const golden = join(scratch, 'shared/golden');
    mkdirSync(join(golden, 'case_a'), { recursive: true });
    writeFileSync(join(golden, 'case_a/case.json'), '{}');
    const r = sh(['prepare'], { GPU_CHECK_DIR: join(scratch, 'prep2'), GPU_CHECK_GOLDEN: golden });
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: no checker ${join(scratch, 'shared/tools/check-cases.sh')} beside golden folder ${golden} (expected ../tools/check-cases.sh)`]);
  });

  it('refuses a flag it does not know', () => {
    const r = sh(['prepare', '--gold', 'x'], { GPU_CHECK_DIR: join(scratch, 'prep3') });
    expect(r.status).toBe(2);
    expect(r.lines).toEqual([`gpu-check: prepare takes only --golden DIR, not '--gold'`]);
  });
});

describe('gpu-check-report.mjs', () => {
  const work = (name: string, files: Record<string, string>) => {
    const w = join(scratch, name);
    mkdirSync(w, { recursive: true });
    for (const [f, body] of Object.entries(files)) writeFileSync(join(w, f), body);
    return w;
  };
  const report = (w: string, ...args: string[]) => spawnSync(process.execPath, [REPORT, w, ...args], { encoding: 'utf8' });

  it('says when the golden cases were not run, and why', () => {
    const w = work('report', {
      'steps.txt': 'info rc=0 1s\ngolden SKIPPED (no golden cases: /x/shared/golden is absent)\n',
      'golden-skipped.txt': 'no golden cases: /x/shared/golden is absent\n',
    });
    const r = report(w, 'full');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('### Golden cases — NOT RUN: no golden cases: /x/shared/golden is absent');
    expect(r.stdout).toContain('golden SKIPPED (no golden cases: /x/shared/golden is absent)');
  });

  it('a suite failure is a WRONG row; an empty wan_480p.json a NOT MEASURED section (audit 12 G, defect 1)', () => {
    const w = work('report-audit', {
      'steps.txt': 'info rc=0 2s\nsuite rc=1 20s\nwan_480p rc=124 55s (ran out of its time)\n',
      'log.txt': '== info (x) [limit 15s]\n== suite (y) [limit 25s]\n== wan_480p (z) [limit 55s]\n',
      'info.json': '{"adapter":{"summary":"nvidia / hopper / NVIDIA H200"},"features":{"subgroups":true}}\n',
      'suite.json': '{"bench":"suite","results":[{"label":"gemm 4096x1152x1152","kernels":["gemm_tiled"],"median_ms":1,"gflops":10000,"ceiling_share":0.3}],"failures":[{"label":"attention 6x1024x64","error":"WrongResultError: …"}]}\n',
      'wan_480p.json': '',
      'wan_480p.out': '',
    });
    const r = report(w, 'full');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('| gemm 4096x1152x1152 | gemm_tiled | 1.000 | 10000.0 | 30.0% |\n| attention 6x1024x64 | WRONG (not timed): WrongResultError: … | — | — | — |\n');
    expect(r.stdout).toContain('`tessera bench model --preset wan-1.3b --dtype f16 --frames 21 --height 60 --width 104 --no-tune` — NOT MEASURED (rc=124, ran out of its 55 s)\n');
    expect(r.stdout).toContain('\n- wan_480p — NOT MEASURED (rc=124, ran out of its 55 s)\n');
    expect(r.stdout).toContain('- Command: `scripts/gpu-check.sh prepare` here at an unstamped .gpu-check (commit unknown), then');
    // --adapter: what run decides the stop on
    expect(spawnSync(process.execPath, [REPORT, '--adapter', w], { encoding: 'utf8' }).stdout).toBe('none tessera info --json has no adapter_policy\n');
  });

  it("the Wan step's figures: time, the check's latent and the kernels it did not run, the phases apart", () => {
    const m = {
      label: 'model wan-1.3b f16 latent 21×60×104 (32760 tokens/item), CFG batch 2', latent: [2, 16, 21, 60, 104], seconds_per_step: 31.25, dispatches: 1234, peak_bytes: 2 ** 33, weight_bytes: 2 ** 31, gflops: 17920.5,
      check: { method: 'at check.latent: finite output', latent: [2, 16, 2, 16, 16], kernels_timed: 19, kernels_checked: 16, unchecked_kernels: ['attention_fa2[SG]{WG=128}', 'gemm_tiled[BIAS,VEC4]{TM=8}'] },
      phases_s: { weights: 0.84, weights_made: 'gpu', check: 3.1, record: 0.2, tune: 6.02, compile: 1.5, timed: 31.3 },
    };
    const w = work('report-wan', { 'steps.txt': 'wan_480p rc=0 44s\n', 'wan_480p.json': `${JSON.stringify(m)}\n` });
    const r = report(w, 'full');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain([
      '### Wan-1.3B step at 480p × 81 frames (latent 21×60×104, CFG batch 2) — `tessera bench model --preset wan-1.3b --dtype f16 --frames 21 --height 60 --width 104 --no-tune`',
      '',
      '31.250 s per step (1234 dispatches), peak 8.00 GiB (weights 2.00 GiB), 17920.5 GFLOP/s; check: at check.latent: finite output.',
      "Check at latent [2, 16, 2, 16, 16] (timed at [2, 16, 21, 60, 104]): 16 of the timed step's 19 kernel variants checked; not checked: attention_fa2[SG]{WG=128}, gemm_tiled[BIAS,VEC4]{TM=8}; the timed output finite.",
      'Phases (s): weights 0.8 (gpu), check 3.1, record 0.2, tune 6.0, compile 1.5, timed 31.3.',
    ].join('\n'));
    expect(r.stdout).not.toContain('NOT MEASURED');
  });

  it('refuses a kind it does not know', () => {
    const r = report(join(scratch, 'report'), 'ful');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('usage: node gpu-check-report.mjs DIR quick|full [--partial] | --adapter DIR');
  });
});

describe('gpu-check.sh size: the bundle and the tree against 60 MiB (the device tool carries 64 MiB in all)', () => {
  it('one line with both sizes under the limit; over it exit 1, naming the largest carried files and what to cut', () => {
    const t = tree('size-tree');
    const g = join(scratch, 'size-bundle');
    mkdirSync(join(g, 'sub'), { recursive: true });
    writeFileSync(join(g, 'node.xz'), Buffer.alloc(3 << 20, 1));
    writeFileSync(join(g, 'sub/dawn.node.xz'), Buffer.alloc(1 << 20, 2));
    writeFileSync(join(g, 'small'), 'x');
    let r = sh(['size', g], {}, t.script);
    expect(r.status).toBe(0);
    expect(r.lines).toHaveLength(1);
    // (du counts the folders too, and the tree is this scratch checkout's scripts/, src/ and kernels/)
    expect(r.lines[0]).toMatch(new RegExp(`^\\[prepare\\] ${escape(g)} 4\\.0 MiB \\+ working tree 0\\.\\d MiB = 4\\.\\d MiB \\(limit 60 MiB of the device tool's 64\\)$`));
    r = sh(['size', g], { GPU_CHECK_LIMIT_MIB: '3' }, t.script);
    expect(r.status).toBe(1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(new RegExp(`^gpu-check: the bundle is 4\\.\\d MiB \\(${escape(g)} 4\\.0 MiB \\+ working tree 0\\.\\d MiB\\), over 3 MiB: largest in ${escape(g)}: node\\.xz 3\\.0 MiB, sub/dawn\\.node\\.xz 1\\.0 MiB, small 0\\.0 MiB; carry fewer golden cases \\(--golden DIR\\) or shrink the tree$`));
    expect(sh(['size'], {}, t.script).lines).toEqual(['gpu-check: usage: scripts/gpu-check.sh size DIR']);
  });
});

describe('gpu-check.sh run: golden cases prepare left in the tree (tests/fixtures, byte for byte the golden folder\'s)', () => {
  // a tree with tests/fixtures/case_x, and a .gpu-check whose golden-in-tree.sha256 lists it (as prepare writes it)
  function withTreeCase(name: string) {
    const t = tree(`${name}-tree`);
    mkdirSync(join(t.root, 'tests/fixtures/case_x'), { recursive: true });
    writeFileSync(join(t.root, 'tests/fixtures/case_x/case.json'), '{}\n');
    writeFileSync(join(t.root, 'tests/fixtures/case_x/expected.safetensors'), 'expected\n');
    bash('git add -A && git -c user.name=t -c user.email=t@t commit -qm fixtures', t.root);
    const g = carried(name, standin([CPU_INFO]), { t, sums: false });
    bash(`cd "${t.root}" && find tests/fixtures/case_x -type f -print0 | sort -z | xargs -0 sha256sum >"${g}/golden-in-tree.sha256"`, g);
    bash('find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum >SHA256SUMS', g);
    return { t, g };
  }

  it('a tree case changed since prepare: refused in one line naming the file, before any step', () => {
    const { t, g } = withTreeCase('tree-golden-changed');
    writeFileSync(join(t.root, 'tests/fixtures/case_x/expected.safetensors'), 'other\n');
    const { out, env } = runEnv(g);
    const r = sh(['run'], env, t.script);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: golden cases in the tree differ from what ${g} was prepared with (tests/fixtures/case_x/expected.safetensors changed): run scripts/gpu-check.sh prepare again and carry .gpu-check`]);
    expect(existsSync(join(out, 'steps.txt'))).toBe(false);
  });

  it('an unchanged tree case passes the check (the run goes on to info, which stops a full run on a CPU adapter)', () => {
    const { t, g } = withTreeCase('tree-golden-same');
    const { env } = runEnv(g);
    const r = sh(['run'], env, t.script);
    expect(r.status).toBe(5);
    expect(r.stderr).not.toContain('differ from what');
  });
});

// (last: its run, started in beforeAll, has been waiting out its budget while the tests above ran)
describe('gpu-check.sh run with a stand-in node', () => {
  it('keeps to its budget, ends what a cut-off step left running, cleans up, publishes each step and exits 4 for steps cut off or skipped', async () => {
    // (the run started in this file's beforeAll, above)
    const r = await budgetRun!;
    expect(r.status, r.lines.join('\n')).toBe(4);
    expect(r.errLines.at(-1)).toBe('gpu-check: exit 4: 0 step(s) failed, 7 ran out of their time or were skipped (steps.txt)');
    const steps = r.file('steps.txt');
    // the seconds tune got: what was left of the budget when it started (at least the 5 s a step needs)
    const cap = /\ntune rc=124 \d+s \(ran out of its (\d+) s\)\n/.exec(steps);
    expect(cap, steps).not.toBeNull();
    const secs = Number(cap![1]);
    expect(secs).toBeGreaterThanOrEqual(5);
    expect(secs).toBeLessThanOrEqual(30);
    // (its unpacked node in a per-run folder under this run's TMPDIR)
    const R = `${escape(r.tmp)}/gpu-check-node\\.\\w{6}`;
    expect(r.file('log.txt')).toMatch(new RegExp(`\n== tune \\(${R}/node ${R}/tessera\\.mjs tune --quick --json\\) \\[limit ${secs}s\\]\n`));
    expect(steps.split('\n').filter(Boolean).map((l) => l.replace(/^(\S+ rc=\d+) \d+s/, '$1 Ns'))).toEqual([
      'info rc=0 Ns',
      `golden SKIPPED (no golden cases or checker in ${r.g})`,
      `tune rc=124 Ns (ran out of its ${secs} s)`,
      ...['ceiling', 'gemm_variants', 'suite', 'attention_4k', 'wan_step'].map((s) => `${s} SKIPPED (time budget of 30s spent)`),
    ]);
    const md = r.file('gpu-check.md');
    expect(md).toMatch(/^## GPU check \(quick\) — \d{4}-\d\d-\d\d \d\d:\d\d UTC, stand-in\n/);
    expect(md).toContain(`### Golden cases — NOT RUN: no golden cases or checker in ${r.g}`);
    expect(md).toContain(`- Command: \`scripts/gpu-check.sh prepare\` here at commit ${T.commit.slice(0, 12)} (src/ and kernels/ as committed, sha256 `);
    expect(md).toContain(`\n- tune — NOT MEASURED (rc=124, ran out of its ${secs} s)\n`);
    expect(md).toContain('\n- wan_step — NOT MEASURED (skipped: time budget of 30s spent)\n');
    expect(md).toContain('### Model step (smoke test) — wan-tiny — NOT MEASURED (skipped: time budget of 30s spent)');
    expect(md).toContain('- Adapter policy: unknown (tessera info --json has no adapter_policy).');
    // what $OUT holds: the four files (within the device's 8), no .tmp left
    expect(readdirSync(r.out).sort()).toEqual(['gpu-check-raw.tar.gz', 'gpu-check.md', 'log.txt', 'steps.txt']);
    const archived = bash(`tar -tzf "${join(r.out, 'gpu-check-raw.tar.gz')}"`, scratch).split('\n');
    expect(archived).toEqual(expect.arrayContaining(['./info.json', './tune.out', './steps.txt', './log.txt', './cache/tessera/tune.json']));
    expect(archived.filter((f) => f.includes('mesa_shader_cache'))).toEqual([]);
    // the sleeper in its own session was ended with its step (gone, or a zombie not reaped yet)
    const pid = Number(readFileSync(pidfile, 'utf8'));
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    expect(stat === '' || / Z /.test(stat.slice(stat.lastIndexOf(')')))).toBe(true);
  });
});
