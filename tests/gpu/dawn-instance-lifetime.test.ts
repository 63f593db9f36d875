// acquireGpu({ gpu: create([]) }) with no other reference to the webgpu package's GPU object: Dawn's Node binding
// (webgpu 0.6.2) destroyed its instance when that object was garbage-collected, with the device still running, and
// the process died ("terminate called after throwing an instance of 'std::system_error' what(): Invalid argument",
// "The futex facility returned an unexpected error code", SIGSEGV), as a bench script of session 18 did at Pace's
// sleep after its second run. acquireGpu now holds the GPU object as long as the device. Run in a child process
// (a crash would take the test worker with it), with --expose-gc: a GC at each of 20 waits, each after a sleep with
// a 16 MiB copy in flight (without the fix, on lavapipe: killed by SIGSEGV or SIGABRT, nodeCli's code null, in 5 runs of 5).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';

const url = (...p: string[]) => pathToFileURL(join(ROOT, ...p)).href;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-dawn-instance-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SCRIPT = `
import { create, globals } from '${url('node_modules', 'webgpu', 'index.js')}';
import { acquireGpu } from '${url('src', 'gpu', 'device.ts')}';
import { waitIdle } from '${url('src', 'gpu', 'plan.ts')}';
Object.assign(globalThis, globals);
const gpu = await acquireGpu({ gpu: create([]) });
const d = gpu.device;
const size = 1 << 24;
const src = d.createBuffer({ size, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
const dst = d.createBuffer({ size, usage: GPUBufferUsage.COPY_DST });
for (let i = 0; i < 20; i++) {
  const enc = d.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, dst, 0, size);
  d.queue.submit([enc.finish()]);
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 5));
  await waitIdle(gpu, 'copy ' + i);
}
console.log('ran 20 copies');
gpu.destroy();
`;

describe.skipIf(!hasGpu)("acquireGpu: a caller's GPU object (webgpu's create()) lives as long as its device", () => {
  it('20 copies, a GC before each wait: the process runs them and exits 0', async () => {
    const file = join(tmp, 'instance.mjs');
    writeFileSync(file, SCRIPT);
    const r = await nodeCli(['--expose-gc', '--import', url('node_modules', 'tsx', 'dist', 'loader.mjs'), file]);
    expect({ code: r.code, stdout: r.stdout.trim(), stderr: r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning: max')).join('\n') }).toEqual({ code: 0, stdout: 'ran 20 copies', stderr: '' });
  });
});
