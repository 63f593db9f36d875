// scripts/stall-guard.mjs, the guard scripts/test.mjs runs vitest under: output passed through, and a child
// that prints nothing for stallMs killed with its whole process group (the grandchildren too: vitest's workers).
import { describe, expect, it } from 'vitest';
import { runStallGuarded } from '../../scripts/stall-guard.mjs';

const collect = () => {
  let text = '';
  return { stream: { write: (d: Buffer | string) => ((text += String(d)), true) } as unknown as NodeJS.WritableStream, text: () => text };
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('runStallGuarded', () => {
  it('a child that keeps printing runs to its end: its lines and exit status passed through', async () => {
    const out = collect();
    const err = collect();
    // 8 lines 100 ms apart (800 ms in all) under a 500 ms guard: each line re-arms it
    const script = 'let i = 0; const t = setInterval(() => { console.log("line " + i); console.error("e" + i); if (++i === 8) { clearInterval(t); process.exitCode = 3; } }, 100);';
    const r = await runStallGuarded(process.execPath, ['-e', script], { stallMs: 500, out: out.stream, err: err.stream });
    expect(r).toEqual({ status: 3, signal: null, stalled: false });
    expect(out.text()).toBe(Array.from({ length: 8 }, (_, i) => `line ${i}\n`).join(''));
    expect(err.text()).toContain('e7');
  });

  it('a child silent for stallMs is killed with its process group, and says stalled', async () => {
    const out = collect();
    // prints a grandchild's pid, then both sleep without a word
    const script = 'const c = require("node:child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" }); console.log(c.pid); setTimeout(() => {}, 60000);';
    const t0 = Date.now();
    const r = await runStallGuarded(process.execPath, ['-e', script], { stallMs: 700, out: out.stream, err: collect().stream });
    expect(r.stalled).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeLessThan(30_000);
    const grandchild = Number(out.text().trim());
    expect(grandchild).toBeGreaterThan(0);
    // the group's SIGKILL reached it too (give the kernel a moment to reap)
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((d) => setTimeout(d, 100));
    expect(alive(grandchild)).toBe(false);
  });

  it('stallMs 0: unguarded, the exit status as the child ended', async () => {
    const r = await runStallGuarded(process.execPath, ['-e', 'process.exit(5)'], { stallMs: 0 });
    expect(r).toEqual({ status: 5, signal: null, stalled: false });
  });
});
