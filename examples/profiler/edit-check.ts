// Is an edited kernel still right? Before the page shows a before → after time for an edit, every
// dispatch of the edited kernel in the plans of the run is replayed twice on the same inputs: once
// with the edited source, once with the shipped one, and the outputs compared with the tolerance
// table `tessera bench` checks its kernels with (BENCH_TOL). An edit that compiles but computes
// something else (returns early, doubles an output) is then reported with how far off it is,
// instead of as a speed-up.
import { BENCH_TOL, kernelLayout, kernelRegistry, kernelSource, readTensor, setKernelSource, variantSource, type DType, type KernelSpec, type Plan, type Tol } from '../../src/profiler.js'; // 'tessera/profiler'
import type { Gpu } from '../../src/index.browser.js'; // 'tessera'
import type { DispatchTiming } from './retime.js';
import { throwIfAborted } from '../../src/model/options.js';

/** The kernel file (kernels/NAME.wgsl) of a dispatch's variant key: `gemm_tiled[BIAS]{TM=4}` → `gemm_tiled`. */
export const kernelFile = (variantKey: string): string => variantKey.replace(/[[{].*$/, '');

/** `gemm[BIAS,GELU]{TM=4}` → all declared flags (listed = on) and the overrides. */
export function parseVariantKey(spec: KernelSpec, key: string): { flags: Record<string, boolean>; overrides: Record<string, number> } {
  const m = /^[^[{]+(?:\[([^\]]*)\])?(?:\{([^}]*)\})?$/.exec(key);
  const on = new Set((m?.[1] ?? '').split(',').filter(Boolean));
  const flags: Record<string, boolean> = {};
  for (const f of Object.keys(spec.flags)) flags[f] = on.has(f);
  const overrides: Record<string, number> = {};
  for (const kv of (m?.[2] ?? '').split(',').filter(Boolean)) {
    const [k, v] = kv.split('=');
    overrides[k!] = Number(v);
  }
  return { flags, overrides };
}

/**
 * The BENCH_TOL row a kernel file is held to: gemm files and conv their own rows, attention files
 * attention's; every other kernel (norms, modulation, elementwise, RoPE, copies: a few roundings
 * per element) the tightest row, layernorm's.
 */
export function toleranceRow(file: string): keyof typeof BENCH_TOL {
  const family = kernelRegistry.get(file)?.family ?? file;
  if (family === 'gemm' || family === 'conv') return family;
  if (family.includes('attention')) return 'attention';
  return 'layernorm';
}

/** One dispatch whose edited output is out of tolerance. */
export interface DispatchDiff {
  /** Variant key and layer of the dispatch, e.g. `gemm_tiled{TM=4}` at `blocks.0.attn1.to_q`. */
  kernel: string;
  layer: string;
  elements: number;
  /** Elements out of tolerance. */
  fails: number;
  /** Largest |edited − shipped| (Infinity for a non-finite edited value). */
  maxAbsErr: number;
  /** The element furthest out of tolerance: `element i: edited a vs shipped b`. */
  worst: string;
}

/** What checkEdit found over all plans. */
export interface EditCheck {
  kernel: string;
  /** The BENCH_TOL row used, and its bands. */
  row: keyof typeof BENCH_TOL;
  tol: Record<DType, Tol>;
  /** Dispatches of the kernel compared, and those without a known output (not compared). */
  checked: number;
  unchecked: number;
  /** The dispatches out of tolerance (empty: the edit computes what the shipped kernel does). */
  wrong: DispatchDiff[];
  /** With `retime`: every replayed dispatch of the kernel, in order, timed with the previous source and the edit. */
  timed?: DispatchTiming[];
}

/**
 * EditChecker's re-time: each dispatch of the kernel is also run with `before` (the source the run used) and
 * the edit, alternating which goes first, over `rounds` timed rounds after one untimed warm-up round, its
 * inputs put back before each run. `timestamps`: GPU timestamps (each run in its own pass), else the wall
 * clock around a submit awaited with onSubmittedWorkDone (overhead included).
 */
export interface Retime {
  before: string;
  rounds: number;
  timestamps: boolean;
  /**
   * Stops the replay (the page's Stop button): checked before each dispatch of the kernel is replayed; an abort
   * rejects plan() with the library's AbortError (`re-time of NAME, before dispatch K/N: aborted (REASON)`), the
   * plan's buffers put back as after a whole replay.
   */
  signal?: AbortSignal;
}

/** |edited − shipped| ≤ atol + rtol·|shipped| for every element (both NaN counts as equal). */
function compare(kernel: string, layer: string, got: Float32Array, ref: Float32Array, tol: Tol): DispatchDiff | null {
  let fails = 0;
  let maxAbsErr = 0;
  let worstExcess = -Infinity;
  let worst = '';
  for (let i = 0; i < ref.length; i++) {
    const g = got[i]!;
    const r = ref[i]!;
    if (Number.isNaN(g) && Number.isNaN(r)) continue;
    const err = Math.abs(g - r);
    const excess = Number.isFinite(err) ? err - (tol.atol + tol.rtol * Math.abs(r)) : g === r ? -Infinity : Infinity;
    if (g !== r) maxAbsErr = Math.max(maxAbsErr, Number.isFinite(err) ? err : Infinity);
    if (excess > 0) fails++;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = `element ${i}: edited ${g} vs shipped ${r}`;
    }
  }
  return fails ? { kernel, layer, elements: ref.length, fails, maxAbsErr, worst } : null;
}

type Range = { buffer: GPUBuffer; offset: number; size: number };

const sizeText = (bytes: number): string => (bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 2 ** 10).toFixed(1)} KiB`);

/**
 * Copies of the byte ranges of buffers a dispatch may write, to put back after a trial run: one copy
 * per buffer, of the span from the first range's start to the last one's end (a pooled buffer written
 * by many dispatches is copied once, so the copies never exceed the buffers themselves).
 */
class Snapshot {
  private constructor(
    private copies: { buffer: GPUBuffer; offset: number; size: number; copy: GPUBuffer }[],
    readonly bytes: number,
  ) {}

  /**
   * Takes the copies. Throws (having made no copy) when the device is out of memory for them; `what`
   * names them in that message.
   */
  static async take(device: GPUDevice, ranges: readonly Range[], what: string): Promise<Snapshot> {
    const spans = new Map<GPUBuffer, { start: number; end: number }>();
    for (const r of ranges) {
      // copies need both copy usages (a plan's placeholder buffers have neither and are never read)
      if ((r.buffer.usage & (GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST)) !== (GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST)) continue;
      const s = spans.get(r.buffer);
      spans.set(r.buffer, { start: Math.min(s?.start ?? Infinity, r.offset), end: Math.max(s?.end ?? 0, r.offset + r.size) });
    }
    const copies: Snapshot['copies'] = [];
    let bytes = 0;
    device.pushErrorScope('out-of-memory');
    for (const [buffer, { start, end }] of spans) {
      // 4-byte aligned, as copies require
      const offset = start - (start % 4);
      const size = Math.min(buffer.size - offset, Math.ceil((end - offset) / 4) * 4);
      if (size <= 0) continue;
      copies.push({ buffer, offset, size, copy: device.createBuffer({ label: 'edit check: saved range', size, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST }) });
      bytes += size;
    }
    const oom = await device.popErrorScope();
    const snap = new Snapshot(copies, bytes);
    if (oom) {
      snap.destroy();
      throw new Error(`the GPU is out of memory for the ${sizeText(bytes)} of copies of ${what}, which the check puts back afterwards (${oom.message}); try a smaller preset or latent`);
    }
    const enc = device.createCommandEncoder({ label: 'edit check: snapshot' });
    for (const c of copies) enc.copyBufferToBuffer(c.buffer, c.offset, c.copy, 0, c.size);
    device.queue.submit([enc.finish()]);
    return snap;
  }

  restore(enc: GPUCommandEncoder): void {
    for (const c of this.copies) enc.copyBufferToBuffer(c.copy, 0, c.buffer, c.offset, c.size);
  }

  destroy(): void {
    for (const c of this.copies) c.copy.destroy();
    this.copies = [];
  }
}

/**
 * Checks kernel file `name` with source `edited` against `shipped` on the dispatches of recorded
 * plans: create one with `checkEdit`, pass each plan to `plan()` (before the plan's own run: the
 * buffers it writes are put back afterwards, so a plan that is not re-runnable, such as a VAE
 * decode piece with its caches, runs as if nothing had happened), then read `result()`.
 */
export class EditChecker {
  private readonly pipes = new Map<string, GPUComputePipeline>();
  private readonly tol: Record<DType, Tol>;
  private readonly row: keyof typeof BENCH_TOL;
  private checked = 0;
  private unchecked = 0;
  private wrong: DispatchDiff[] = [];
  private readonly timed: DispatchTiming[] = [];

  constructor(
    private readonly gpu: Gpu,
    private readonly name: string,
    private readonly shipped: string,
    private readonly edited: string,
    private readonly retime?: Retime,
  ) {
    this.row = toleranceRow(name);
    this.tol = BENCH_TOL[this.row];
  }

  /** The pipeline of variant `key` built from `source` (the registry's source is put back at once). */
  private pipeline(which: 'edited' | 'shipped' | 'before', key: string): GPUComputePipeline {
    if (which === 'before' && this.retime!.before === this.shipped) which = 'shipped';
    const id = `${which}|${key}`;
    const hit = this.pipes.get(id);
    if (hit) return hit;
    const spec = kernelRegistry.get(this.name)!;
    const v = parseVariantKey(spec, key);
    const inUse = kernelSource(this.name);
    let code: string;
    try {
      setKernelSource(this.name, which === 'edited' ? this.edited : which === 'before' ? this.retime!.before : this.shipped);
      code = variantSource(spec, v);
    } finally {
      setKernelSource(this.name, inUse === this.shipped ? null : inUse);
    }
    const device = this.gpu.device;
    const p = device.createComputePipeline({
      label: `edit check: ${which} ${key}`,
      layout: device.createPipelineLayout({ bindGroupLayouts: [kernelLayout(this.gpu, spec)] }),
      compute: { module: device.createShaderModule({ label: `edit check: ${which} ${key}`, code }), entryPoint: spec.entry ?? 'main', constants: v.overrides },
    });
    this.pipes.set(id, p);
    return p;
  }

  /**
   * Replays `plan` up to its last dispatch of the kernel, comparing each dispatch of the kernel run
   * edited and shipped on the same inputs; the plan's buffers are left as they were. Throws one line
   * when the device reports a validation or out-of-memory error (before any replay when the copies
   * of what the replay writes do not fit).
   */
  async plan(plan: Plan): Promise<void> {
    const at = plan.dispatches.map((d, i) => (kernelFile(d.kernel) === this.name ? i : -1)).filter((i) => i >= 0);
    if (!at.length) return;
    await plan.compile();
    const device = this.gpu.device;
    const writes = (ds: readonly Plan['dispatches'][number][]) => ds.flatMap((d) => d.bound.filter((b) => b.write));
    // only the dispatches up to the last edited one are replayed, so only what they write is put back
    const replayed = plan.dispatches.slice(0, at[at.length - 1]! + 1);
    const whole = await Snapshot.take(device, writes(replayed), `what the plan's first ${replayed.length} dispatches write`);
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    try {
      let pos = 0;
      for (const [k, i] of at.entries()) {
        throwIfAborted(this.retime?.signal, `re-time of ${this.name}, before dispatch ${k + 1}/${at.length}`);
        const d = plan.dispatches[i]!;
        const out = d.output;
        // the dispatches before this one, as recorded: its inputs
        let enc = device.createCommandEncoder({ label: 'edit check' });
        if (i > pos) plan.encode(enc, pos, i);
        device.queue.submit([enc.finish()]);
        pos = i + 1;
        const own = out || this.retime ? await Snapshot.take(device, writes([d]), `what ${d.kernel} writes`) : null;
        if (this.retime) this.timed.push({ kernel: d.kernel, layer: d.layer, ...(await this.time(d, own!)) });
        if (!out) {
          own?.destroy();
          this.unchecked++;
          enc = device.createCommandEncoder({ label: 'edit check' });
          plan.encode(enc, i, i + 1);
          device.queue.submit([enc.finish()]);
          continue;
        }
        const once = async (which: 'edited' | 'shipped'): Promise<Float32Array> => {
          const e = device.createCommandEncoder({ label: `edit check: ${which}` });
          const pass = e.beginComputePass({ label: `edit check: ${which} ${d.kernel}` });
          pass.setPipeline(this.pipeline(which, d.kernel));
          pass.setBindGroup(0, d.bindGroup);
          pass.dispatchWorkgroups(...d.workgroups);
          pass.end();
          device.queue.submit([e.finish()]);
          return readTensor(this.gpu, out);
        };
        try {
          const got = await once('edited'); // the timing (if any) put the inputs back
          enc = device.createCommandEncoder({ label: 'edit check: restore' });
          own!.restore(enc); // the edited run may have written its inputs (in-place ops): the shipped one starts from the same state
          device.queue.submit([enc.finish()]);
          const ref = await once('shipped'); // later dispatches read the shipped kernel's output
          this.checked++;
          const diff = compare(d.kernel, d.layer, got, ref, this.tol[out.dtype]);
          if (diff) this.wrong.push(diff);
        } finally {
          own!.destroy();
        }
      }
    } finally {
      // put back what the replay wrote, also when it stopped on an error
      const enc = device.createCommandEncoder({ label: 'edit check: restore' });
      whole.restore(enc);
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      const invalid = await device.popErrorScope();
      const oom = await device.popErrorScope();
      whole.destroy();
      /* eslint-disable no-unsafe-finally */
      if (oom) throw new Error(`the GPU ran out of memory replaying the dispatches of ${this.name} (${oom.message}); try a smaller preset or latent`);
      if (invalid) throw new Error(`checking the edited ${this.name} against the shipped kernel failed: ${invalid.message}`);
      /* eslint-enable no-unsafe-finally */
    }
  }

  /**
   * Times dispatch `d` with the `before` source and the edit (Retime), its writes put back from `own` before each
   * run and at the end. Returns each source's times (ms), one per timed round.
   */
  private async time(d: Plan['dispatches'][number], own: Snapshot): Promise<{ before: number[]; after: number[] }> {
    const { rounds, timestamps } = this.retime!;
    const device = this.gpu.device;
    const runs: { round: number; which: 'before' | 'after' }[] = [];
    // round 0 is the untimed warm-up; the order alternates so neither source always runs on a warmed cache
    for (let round = 0; round <= rounds; round++) for (const which of round % 2 ? (['after', 'before'] as const) : (['before', 'after'] as const)) runs.push({ round, which });
    const pass = (enc: GPUCommandEncoder, which: 'before' | 'after', timestampWrites?: GPUComputePassTimestampWrites) => {
      const p = enc.beginComputePass({ label: `re-time: ${which} ${d.kernel}`, ...(timestampWrites ? { timestampWrites } : {}) });
      p.setPipeline(this.pipeline(which === 'after' ? 'edited' : 'before', d.kernel));
      p.setBindGroup(0, d.bindGroup);
      p.dispatchWorkgroups(...d.workgroups);
      p.end();
    };
    const out = { before: [] as number[], after: [] as number[] };
    if (timestamps) {
      const querySet = device.createQuerySet({ label: 're-time', type: 'timestamp', count: 2 * runs.length });
      const bytes = 16 * runs.length;
      const resolved = device.createBuffer({ label: 're-time: resolved', size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const readBack = device.createBuffer({ label: 're-time: read back', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      try {
        // the warm-up round alone, awaited before the timed ones are submitted: a pipeline made for this re-time (the
        // edit's) is first run there, so whatever the driver does on a new pipeline's first dispatch (SwiftShader and
        // lavapipe compile it then) is over before any timestamp is taken, not queued beside the timed passes
        const warm = device.createCommandEncoder({ label: 're-time: warm-up' });
        for (const r of runs.filter((x) => !x.round)) {
          own.restore(warm);
          pass(warm, r.which);
        }
        device.queue.submit([warm.finish()]);
        await device.queue.onSubmittedWorkDone();
        const enc = device.createCommandEncoder({ label: 're-time' });
        runs.forEach((r, k) => {
          if (!r.round) return; // warmed above; its query slots stay unwritten and unread
          own.restore(enc);
          pass(enc, r.which, { querySet, beginningOfPassWriteIndex: 2 * k, endOfPassWriteIndex: 2 * k + 1 });
        });
        own.restore(enc);
        enc.resolveQuerySet(querySet, 0, 2 * runs.length, resolved, 0);
        enc.copyBufferToBuffer(resolved, 0, readBack, 0, bytes);
        device.queue.submit([enc.finish()]);
        await readBack.mapAsync(GPUMapMode.READ);
        const t = new BigInt64Array(readBack.getMappedRange().slice(0));
        readBack.unmap();
        runs.forEach((r, k) => {
          if (r.round) out[r.which].push(Math.max(0, Number(t[2 * k + 1]! - t[2 * k]!) / 1e6));
        });
      } finally {
        querySet.destroy();
        resolved.destroy();
        readBack.destroy();
      }
      return out;
    }
    for (const r of runs) {
      let enc = device.createCommandEncoder({ label: 're-time: restore' });
      own.restore(enc);
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      enc = device.createCommandEncoder({ label: 're-time' });
      pass(enc, r.which);
      const t0 = performance.now();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      if (r.round) out[r.which].push(performance.now() - t0);
    }
    const enc = device.createCommandEncoder({ label: 're-time: restore' });
    own.restore(enc);
    device.queue.submit([enc.finish()]);
    return out;
  }

  result(): EditCheck {
    return { kernel: this.name, row: this.row, tol: this.tol, checked: this.checked, unchecked: this.unchecked, wrong: this.wrong, ...(this.retime ? { timed: this.timed } : {}) };
  }
}

/** How far off a wrong edit is, in one paragraph (null when every compared dispatch is within tolerance). */
export function wrongText(c: EditCheck): string | null {
  if (!c.wrong.length) return null;
  const worst = c.wrong.reduce((a, b) => (b.maxAbsErr > a.maxAbsErr ? b : a));
  const fails = c.wrong.reduce((a, w) => a + w.fails, 0);
  const elements = c.wrong.reduce((a, w) => a + w.elements, 0);
  const tol = Object.entries(c.tol).map(([dt, t]) => `${dt} atol ${t.atol}, rtol ${t.rtol}`).join('; ');
  return (
    `the output is WRONG: ${c.wrong.length} of ${c.checked} dispatches of ${c.kernel} differ from the shipped kernel's on the same inputs beyond the ${c.row} tolerance ` +
    `(${tol}; BENCH_TOL, as tessera bench checks kernels): ${fails} of ${elements} elements out of it, max |edited − shipped| ${worst.maxAbsErr} ` +
    `at ${worst.kernel}${worst.layer ? ` (${worst.layer})` : ''}, ${worst.worst}. No before → after time is reported for a wrong kernel.`
  );
}
