// scripts/gpu-check.sh without a GPU or a full prepare (minutes of xz): its atomic `pack` step (what
// prepare compresses node and Dawn with), `run`'s refusal of a damaged .gpu-check in one line before
// any step, prepare's check of an explicit golden folder, and the report's line for skipped golden
// cases. GPU_CHECK_DIR points the script at a scratch .gpu-check, never the checkout's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = resolve('scripts/gpu-check.sh');
const scratch = mkdtempSync(join(tmpdir(), 'gpu-check-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sh(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter(Boolean);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines };
}
const xzTest = (p: string) => spawnSync('xz', ['-t', p]).status;
const unxz = (p: string) => spawnSync('xz', ['-dc', p], { maxBuffer: 1 << 26 }).stdout as Buffer;
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

describe('gpu-check.sh run refuses a damaged .gpu-check in one line, before any step', () => {
  // a scratch .gpu-check: node.xz holding `payload`, the other carried files, SHA256SUMS as prepare writes it
  function carried(name: string, payload: string, sums = true): string {
    const g = join(scratch, name);
    mkdirSync(join(g, 'node_modules/webgpu/dist/linux-x64'), { recursive: true });
    writeFileSync(join(g, 'payload'), payload);
    spawnSync('bash', ['-c', `xz -c payload >node.xz && xz -c payload >node_modules/webgpu/dist/linux-x64/dawn.node.xz && echo '// bundle' >tessera.mjs`], { cwd: g });
    rmSync(join(g, 'payload'));
    if (sums) spawnSync('bash', ['-c', 'find . -type f ! -name SHA256SUMS ! -name "*.tmp" -print0 | sort -z | xargs -0 sha256sum >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS'], { cwd: g });
    return g;
  }
  const runIn = (g: string) => {
    const out = join(g, 'out');
    const before = new Set(readdirSync('/tmp').filter((n) => n.startsWith('gpu-check-')));
    const r = sh(['run'], { GPU_CHECK_DIR: g, OUT: out });
    // no step ran, nothing was reported, and no per-run folder was left behind
    expect(existsSync(join(out, 'gpu-check.md'))).toBe(false);
    expect(readdirSync('/tmp').filter((n) => n.startsWith('gpu-check-') && !before.has(n))).toEqual([]);
    return r;
  };

  it('no .gpu-check at all', () => {
    const g = join(scratch, 'absent');
    const r = runIn(g);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: no ${g} here: run scripts/gpu-check.sh prepare first (and carry .gpu-check)`]);
  });

  it('no SHA256SUMS (prepare did not finish)', () => {
    const g = carried('unfinished', 'x', false);
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

  it('an intact archive whose node does not run', () => {
    const g = carried('notnode', 'not an executable\n');
    const r = runIn(g);
    expect(r.status).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(new RegExp(`^gpu-check: the carried node \\(${g}/node\\.xz\\) does not run here: `));
  });
});

describe('gpu-check.sh run with a stand-in node', () => {
  it('keeps to its budget, ends what a cut-off step left running, cleans up and says the golden cases were not run', () => {
    // the stand-in answers the unpack checks, hands the report to the real node, and its `tune`
    // hangs with a child in a session of its own (as check-cases.sh's per-case timeout is)
    const g = join(scratch, 'standin');
    const out = join(g, 'out');
    const pidfile = join(scratch, 'sleeper.pid');
    mkdirSync(join(g, 'node_modules/webgpu/dist/linux-x64'), { recursive: true });
    writeFileSync(
      join(scratch, 'fake-node'),
      [
        '#!/usr/bin/env bash',
        'case "$1" in --version) echo v0; exit 0 ;; -e) exit 0 ;; *gpu-check-report.mjs) exec "' + process.execPath + '" "$@" ;; esac',
        'case "$2" in',
        '  info) echo \'{"adapter":{"summary":"stand-in"},"features":{}}\' ;;',
        '  tune) setsid sleep 120 & echo $! >"' + pidfile + '"; sleep 120 ;;',
        '  *) echo \'{}\' ;;',
        'esac',
      ].join('\n'),
    );
    spawnSync('bash', ['-c', `xz -c "${join(scratch, 'fake-node')}" >node.xz && echo x | xz -c >node_modules/webgpu/dist/linux-x64/dawn.node.xz && echo >tessera.mjs && echo >node_modules/webgpu/index.js && echo '{}' >node_modules/webgpu/package.json && cp "${resolve('scripts/gpu-check-report.mjs')}" . && find . -type f ! -name "*.tmp" -print0 | sort -z | xargs -0 sha256sum >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS`], { cwd: g });
    const before = new Set(readdirSync('/tmp').filter((n) => n.startsWith('gpu-check-')));
    const t0 = Date.now();
    const r = sh(['run', '--quick'], { GPU_CHECK_DIR: g, OUT: out, GPU_CHECK_BUDGET: '20' });
    expect(r.status, r.lines.join('\n')).toBe(0);
    expect((Date.now() - t0) / 1000).toBeLessThan(40);
    const steps = readFileSync(join(out, 'steps.txt'), 'utf8');
    expect(steps).toMatch(/^info rc=0 \d+s\n/);
    expect(steps).toContain(`golden SKIPPED (no golden cases or checker in ${g})`);
    expect(steps).toMatch(/\ntune rc=124 \d+s \(ran out of its time\)\n/);
    expect(steps).toContain('wan_step SKIPPED (time budget of 20s spent)');
    expect(readFileSync(join(out, 'gpu-check.md'), 'utf8')).toContain(`### Golden cases — NOT RUN: no golden cases or checker in ${g}`);
    // the sleeper in its own session was ended with its step
    const pid = Number(readFileSync(pidfile, 'utf8'));
    // (gone, or a zombie that init has not reaped yet)
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    expect(stat === '' || / Z /.test(stat.slice(stat.lastIndexOf(')')))).toBe(true);
    expect(readdirSync('/tmp').filter((n) => n.startsWith('gpu-check-') && !before.has(n))).toEqual([]);
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
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([`gpu-check: prepare takes only --golden DIR, not '--gold'`]);
  });
});

describe('gpu-check-report.mjs', () => {
  it('says when the golden cases were not run, and why', () => {
    const w = join(scratch, 'report');
    mkdirSync(w, { recursive: true });
    writeFileSync(join(w, 'steps.txt'), 'info rc=0 1s\ngolden SKIPPED (no golden cases: /x/shared/golden is absent)\n');
    writeFileSync(join(w, 'golden-skipped.txt'), 'no golden cases: /x/shared/golden is absent\n');
    const r = spawnSync(process.execPath, ['scripts/gpu-check-report.mjs', w, 'full'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('### Golden cases — NOT RUN: no golden cases: /x/shared/golden is absent');
    expect(r.stdout).toContain('golden SKIPPED (no golden cases: /x/shared/golden is absent)');
  });
});
