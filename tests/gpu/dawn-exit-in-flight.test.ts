// process.exit() with a device's GPU work in flight: on lavapipe with a cold shader cache the process died in native code
// now and then (SIGSEGV, SIGABRT; this script without destroyAcquiredGpus(), exiting 10–30 ms after the first submit of a
// dispatch loop: 3 of 10 runs, 2 of 10 another time), as `tessera bench gemm` did in CI when its reader closed stdout
// during the ceiling measurement (bin/tessera.mjs exits on that EPIPE). destroyAcquiredGpus() before the exit (what
// bin/tessera.mjs does now) lets Dawn wait for the queue and the compiles: none of 30 died. Each run is its own process
// (a crash would take the test worker with it); without the fix all eight exit 0 between one time in six and one in eighteen.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';

const url = (...p: string[]) => pathToFileURL(join(ROOT, ...p)).href;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-dawn-exit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SCRIPT = `
import { create, globals } from '${url('node_modules', 'webgpu', 'index.js')}';
import { acquireGpu, destroyAcquiredGpus } from '${url('src', 'gpu', 'device.ts')}';
Object.assign(globalThis, globals);
const gpu = await acquireGpu({ gpu: create([]) });
const d = gpu.device;
const code = \`@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  var acc = a[g.x];
  for (var k = 0u; k < 20000u; k++) { acc = fma(acc, 1.0001, 0.5); }
  a[g.x] = acc;
}\`;
const pipeline = d.createComputePipeline({ layout: 'auto', compute: { module: d.createShaderModule({ code }), entryPoint: 'main' } });
const size = 4 * 65536 * 4;
const buf = d.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
const back = d.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const group = d.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
const submit = () => {
  const e = d.createCommandEncoder();
  const pass = e.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(4096);
  pass.end();
  e.copyBufferToBuffer(buf, 0, back, 0, size);
  d.queue.submit([e.finish()]);
  back.mapAsync(GPUMapMode.READ).then(() => { back.unmap(); submit(); }, () => {});
};
submit();
setTimeout(() => {
  console.log('destroyed ' + destroyAcquiredGpus());
  process.exit(0);
}, Number(process.argv[2]));
`;

describe.skipIf(!hasGpu)('destroyAcquiredGpus: process.exit() with GPU work in flight', () => {
  it('eight processes, each exits 10–38 ms after its first submit with the queue busy: every one exits 0', async () => {
    const file = join(tmp, 'exit.mjs');
    writeFileSync(file, SCRIPT);
    // a cold shader cache: the window in which an exit crashed (a warm one hid it)
    const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', MESA_SHADER_CACHE_DISABLE: 'true' };
    const DELAYS = [10, 14, 18, 22, 26, 30, 34, 38];
    const runs = [];
    for (const ms of DELAYS) {
      const r = await nodeCli(['--import', url('node_modules', 'tsx', 'dist', 'loader.mjs'), file, String(ms)], { env });
      runs.push({ ms, code: r.code, stdout: r.stdout.trim() });
    }
    expect(runs).toEqual(DELAYS.map((ms) => ({ ms, code: 0, stdout: 'destroyed 1' })));
  }, 120_000);
});
