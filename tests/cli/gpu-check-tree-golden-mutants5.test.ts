// Mutation round 5 (session 18) on scripts/gpu-check.sh run (4fce327): the golden cases prepare left in the working
// tree (golden-in-tree.sha256: tests/fixtures/NAME, not carried twice) reach the checker. The run tests with tree cases
// stopped at the sums check or at info, so a run that checked them and then left them out of the checker's arguments
// passed. Here a --quick run with a stand-in node (a GPU adapter), python3 with numpy, and a stand-in checker that
// writes down the cases it was given. No GPU; a few seconds.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const S = mkdtempSync(join(tmpdir(), 'gpu-check-tree-golden5-'));
afterAll(() => rmSync(S, { recursive: true, force: true }));
const numpy = spawnSync('python3', ['-c', 'import numpy']).status === 0;
const vulkan = /libvulkan\.so\.1/.test(spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '');

const INFO = '{"adapter":{"summary":"nvidia / hopper / NVIDIA H200"},"features":{"subgroups":true},"limits":{},"adapter_policy":{"cpu":false,"subgroup_min_size":32,"subgroup_max_size":32}}';

describe.skipIf(!numpy || !vulkan)('gpu-check.sh run --quick: golden cases from the tree', () => {
  it("a case prepare left in tests/fixtures is among the checker's cases", async () => {
    // node: answers the unpack checks, hands the report to the real node, `info` as a GPU, every other step '{}'
    writeFileSync(join(S, 'node'), `#!/usr/bin/env bash\ncase "$1" in --version) echo v0; exit 0 ;; -e) exit 0 ;; *gpu-check-report.mjs) exec "${process.execPath}" "$@" ;; esac\ncase "$2" in info) echo '${INFO}' ;; *) echo '{}' ;; esac\n`);
    const setup = `set -e
      root=$S/tree g=$S/g
      mkdir -p $root/scripts $root/src $root/kernels $root/tests/fixtures/case_x $g/node_modules/webgpu/dist/linux-x64 $g/tools $S/bin $S/tmp
      cp "${resolve('scripts/gpu-check.sh')}" "${resolve('scripts/gpu-check-report.mjs')}" $root/scripts/
      echo 'export const a = 1;' >$root/src/a.ts; echo '// k' >$root/kernels/k.wgsl; echo '{}' >$root/tests/fixtures/case_x/case.json
      (cd $root && git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm init)
      xz -c $S/node >$g/node.xz; echo x | xz -c >$g/node_modules/webgpu/dist/linux-x64/dawn.node.xz
      echo '// bundle' >$g/tessera.mjs; echo >$g/node_modules/webgpu/index.js; echo '{}' >$g/node_modules/webgpu/package.json
      printf '#!/usr/bin/env bash\\nprintf "%%s\\\\n" "$@" >%s/checked.txt\\n' $S >$g/tools/check-cases.sh
      (cd $root && sha256sum tests/fixtures/case_x/case.json >$g/golden-in-tree.sha256 && bash scripts/gpu-check.sh stamp $g)
      (cd $g && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum >$S/sums && mv $S/sums SHA256SUMS)
      printf '#!/bin/sh\\nexit 1\\n' >$S/bin/nvidia-smi; chmod +x $S/bin/nvidia-smi`;
    const made = spawnSync('bash', ['-c', setup], { encoding: 'utf8', env: { ...process.env, S } });
    expect(made.status, made.stderr).toBe(0);
    // spawned, not spawnSync: the run takes 11 s beside a CPU hog (more on a loaded CI runner), and a worker blocked that
    // long misses vitest's RPC deadline (60 s; "Timeout calling onTaskUpdate" fails the whole run)
    const r = await new Promise<{ stderr: string }>((resolve, reject) => {
      const p = spawn('bash', [join(S, 'tree/scripts/gpu-check.sh'), 'run', '--quick'], {
        env: { ...process.env, PATH: `${join(S, 'bin')}:${process.env.PATH}`, GPU_CHECK_DIR: join(S, 'g'), OUT: join(S, 'out'), TMPDIR: join(S, 'tmp') },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
      p.on('error', reject);
      p.on('close', () => (clearTimeout(timer), resolve({ stderr })));
    });
    expect(existsSync(join(S, 'out/steps.txt')), r.stderr).toBe(true);
    expect(readFileSync(join(S, 'out/steps.txt'), 'utf8'), r.stderr).toMatch(/^golden rc=0 /m);
    expect(readFileSync(join(S, 'checked.txt'), 'utf8')).toBe(`${join(S, 'tree/tests/fixtures/case_x')}/\n`);
  }, 150_000);
});
