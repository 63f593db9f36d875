// Mutation round 5 (session 18) on scripts/gpu-check.sh size (4fce327): the limit is for the bundle and the working
// tree together (the device tool carries both, 64 MiB in all). The existing test's bundle alone passed its limit, so a
// check of the bundle without the tree held: here a bundle under the limit beside a tree that takes it over.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const scratch = mkdtempSync(join(tmpdir(), 'gpu-check-size5-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `n` pseudo-random bytes. */
const noise = (n: number, seed: number) => {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
};

describe('gpu-check.sh size counts the working tree', () => {
  it('a 1 MiB bundle beside a 2.5 MiB tree is over a 3 MiB limit: exit 1, the tree named in the sum', () => {
    const root = join(scratch, 'tree');
    mkdirSync(join(root, 'scripts'), { recursive: true });
    copyFileSync(resolve('scripts/gpu-check.sh'), join(root, 'scripts/gpu-check.sh'));
    writeFileSync(join(root, 'weights.bin'), noise(5 << 19, 7)); // 2.5 MiB, untracked and not ignored: it travels too
    const git = spawnSync('bash', ['-c', 'git init -q && git add scripts && git -c user.name=t -c user.email=t@t commit -qm init'], { cwd: root, encoding: 'utf8' });
    expect(git.status, git.stderr).toBe(0);
    const g = join(scratch, 'bundle');
    mkdirSync(g);
    writeFileSync(join(g, 'node.xz'), noise(1 << 20, 3));
    const r = spawnSync('bash', [join(root, 'scripts/gpu-check.sh'), 'size', g], { encoding: 'utf8', env: { ...process.env, GPU_CHECK_LIMIT_MIB: '3' } });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^gpu-check: the bundle is 3\.\d MiB \(.* 1\.0 MiB \+ working tree 2\.\d MiB\), over 3 MiB: /);
  });
});
