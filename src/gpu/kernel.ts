// Kernel declarations and the pipeline cache.
//
// A kernel = one WGSL file (plus optional shared preludes), a declared set of boolean
// preprocessor flags (structural variants) and `override` constants (tuning knobs), and an
// explicit binding list. Pipelines are cached by kernel + flags + overrides, never by shape.
import type { Gpu } from './device.js';
import { GpuError, gpuWait } from './device.js';
import { callHook, type Hook } from '../hook.js';
import { kernelSource, preprocessMapped, ShaderError, sourceMessage, type MappedSource } from './shader.js';

/** Binding kinds in group 0, in binding order. */
export type BindingKind = 'uniform' | 'read' | 'rw';

/** A kernel family's declaration (defineKernel): its WGSL file, its variants and knobs, its bindings (docs/CONVENTIONS.md). */
export interface KernelSpec {
  /** File under kernels/ without `.wgsl`. */
  name: string;
  /** Op family for profiles and tuning when several files implement one op (e.g. `gemm` for gemm_tiled, gemm_subgroup, gemm_gemv); default `name`. */
  family?: string;
  /** Device features every variant needs (e.g. the subgroup GEMM), in addition to `needs`. */
  requires?: readonly ('shader-f16' | 'subgroups')[];
  /** Shared WGSL files under kernels/ concatenated before this one. */
  prelude?: string[];
  /** The WGSL entry point (default `main`). */
  entry?: string;
  /** Structural variants: flag → allowed values (the first is the default). */
  flags: Record<string, readonly boolean[]>;
  /** Tuning knobs as WGSL `override`s: name → allowed values (the first is the default). */
  overrides: Record<string, readonly number[]>;
  /** Group 0's bindings in order: the uniform `Params` (binding 0) when the kernel has one, then the storage buffers. */
  bindings: readonly BindingKind[];
  /** Flags that need a device feature. */
  needs?: Partial<Record<string, 'shader-f16' | 'subgroups'>>;
  /** Flag combinations that make sense (e.g. one activation at a time); default: all. */
  valid?: (flags: Record<string, boolean>) => boolean;
}

export interface Variant {
  flags: Record<string, boolean>;
  overrides: Record<string, number>;
}

/** All declared kernels, for `tessera info`, the compile-everything test and the profiler UI. */
export const kernelRegistry = new Map<string, KernelSpec>();

export function defineKernel(spec: KernelSpec): KernelSpec {
  if (kernelRegistry.has(spec.name)) throw new Error(`kernel ${spec.name} declared twice`);
  kernelRegistry.set(spec.name, spec);
  return spec;
}

/** `gemm[F16,GELU]{TM=4}`: readable key used as label, cache key and profiler name. */
export function variantKey(spec: KernelSpec, v: Partial<Variant> = {}): string {
  const full = resolveVariant(spec, v);
  const on = Object.keys(full.flags).filter((f) => full.flags[f]).sort();
  const ov = Object.keys(full.overrides).sort().map((k) => `${k}=${full.overrides[k]}`);
  return `${spec.name}${on.length ? `[${on.join(',')}]` : ''}${ov.length ? `{${ov.join(',')}}` : ''}`;
}

export function resolveVariant(spec: KernelSpec, v: Partial<Variant> = {}): Variant {
  const flags: Record<string, boolean> = {};
  for (const [f, allowed] of Object.entries(spec.flags)) {
    const val = v.flags?.[f] ?? allowed[0]!;
    if (!allowed.includes(val)) throw new ShaderError(`${spec.name}: flag ${f}=${val} is not an allowed value`);
    flags[f] = val;
  }
  for (const f of Object.keys(v.flags ?? {})) {
    if (!(f in spec.flags)) throw new ShaderError(`${spec.name}: unknown flag ${f} (declared: ${Object.keys(spec.flags).join(', ') || 'none'})`);
  }
  if (spec.valid && !spec.valid(flags)) {
    throw new ShaderError(`${spec.name}: flag combination [${Object.keys(flags).filter((f) => flags[f]).join(',')}] is not a valid variant`);
  }
  const overrides: Record<string, number> = {};
  for (const [o, allowed] of Object.entries(spec.overrides)) {
    const val = v.overrides?.[o] ?? allowed[0]!;
    // only declared values: an op sizes its dispatch for them (e.g. ceil(n / WG) workgroups)
    if (!allowed.includes(val)) throw new ShaderError(`${spec.name}: override ${o}=${val} is not a declared value (declared: ${allowed.join(', ')})`);
    overrides[o] = val;
  }
  for (const o of Object.keys(v.overrides ?? {})) {
    if (!(o in spec.overrides)) throw new ShaderError(`${spec.name}: unknown override ${o} (declared: ${Object.keys(spec.overrides).join(', ') || 'none'})`);
  }
  return { flags, overrides };
}

/** The WGSL text of a variant, preludes included. */
export function variantSource(spec: KernelSpec, v: Partial<Variant> = {}): string {
  return variantSourceMapped(spec, v).text;
}

const ENABLE = /^\s*enable\s+[\w, ]+;\s*$/;

/**
 * The WGSL text of a variant with its line map (`lines[i]`: file under kernels/ and line of output
 * line i + 1, preludes included), for compiler messages at the line of the file a user edits.
 */
export function variantSourceMapped(spec: KernelSpec, v: Partial<Variant> = {}): MappedSource {
  const full = resolveVariant(spec, v);
  const parts = [...(spec.prelude ?? []), spec.name].map((n) => preprocessMapped(`kernels/${n}.wgsl`, kernelSource(n), full.flags));
  const text = parts.flatMap((p) => p.text.split('\n'));
  const lines = parts.flatMap((p) => p.lines);
  // `enable` directives must come first: hoist them from preludes/kernel (each once; their lines stay, blank, so the map holds)
  const enables = new Map<string, MappedSource['lines'][number]>();
  text.forEach((l, i) => {
    if (!ENABLE.test(l)) return;
    if (!enables.has(l.trim())) enables.set(l.trim(), lines[i]!);
    text[i] = '';
  });
  return { text: [...enables.keys(), ...text].join('\n'), lines: [...enables.values(), ...lines] };
}

export interface CompiledKernel {
  key: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  spec: KernelSpec;
  variant: Variant;
}

const caches = new WeakMap<GPUDevice, Map<string, CompiledKernel>>();
const layoutCaches = new WeakMap<GPUDevice, Map<string, GPUBindGroupLayout>>();

function bindGroupLayout(device: GPUDevice, bindings: readonly BindingKind[]): GPUBindGroupLayout {
  let cache = layoutCaches.get(device);
  if (!cache) layoutCaches.set(device, (cache = new Map()));
  const k = bindings.join(',');
  let l = cache.get(k);
  if (!l) {
    l = device.createBindGroupLayout({
      label: `layout(${k})`,
      entries: bindings.map((b, i) => ({
        binding: i,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b === 'uniform' ? 'uniform' : b === 'read' ? 'read-only-storage' : 'storage' },
      })),
    });
    cache.set(k, l);
  }
  return l;
}

/** Throws if a variant needs a feature the device lacks, naming the flag and the feature. */
export function checkVariantSupported(gpu: Gpu, spec: KernelSpec, v: Variant): void {
  for (const feat of spec.requires ?? []) {
    if (feat === 'subgroups' && !gpu.subgroups) throw new GpuError(`${spec.name}: needs the adapter feature subgroups`, 'validation', spec.name);
    if (feat === 'shader-f16' && !gpu.f16) throw new GpuError(`${spec.name}: needs the adapter feature shader-f16`, 'validation', spec.name);
  }
  for (const [flag, feat] of Object.entries(spec.needs ?? {})) {
    if (!v.flags[flag]) continue;
    if (feat === 'shader-f16' && !gpu.f16) throw new GpuError(`${spec.name}: variant ${flag} needs the adapter feature shader-f16, which this adapter lacks (use dtype: 'f32')`, 'validation', spec.name);
    if (feat === 'subgroups' && !gpu.subgroups) throw new GpuError(`${spec.name}: variant ${flag} needs the adapter feature subgroups`, 'validation', spec.name);
  }
}

/**
 * Compile (or fetch from cache) a pipeline, synchronously: WGSL errors surface as the device's
 * validation errors (compilePipelines and compileCheck report them at the source's lines).
 */
export function getKernel(gpu: Gpu, spec: KernelSpec, v: Partial<Variant> = {}): CompiledKernel {
  const device = gpu.device;
  let cache = caches.get(device);
  if (!cache) caches.set(device, (cache = new Map()));
  const variant = resolveVariant(spec, v);
  const key = variantKey(spec, variant);
  const hit = cache.get(key);
  if (hit) return hit;
  checkVariantSupported(gpu, spec, variant);
  const code = variantSource(spec, variant);
  const module = device.createShaderModule({ label: key, code });
  const layout = bindGroupLayout(device, spec.bindings);
  const pipeline = device.createComputePipeline({
    label: key,
    layout: device.createPipelineLayout({ label: key, bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: spec.entry ?? 'main', constants: variant.overrides },
  });
  const compiled = { key, pipeline, layout, spec, variant };
  cache.set(key, compiled);
  return compiled;
}

/** The bind group layout of a kernel (bindings in order): what a bind group needs before its pipeline exists. */
export function kernelLayout(gpu: Gpu, spec: KernelSpec): GPUBindGroupLayout {
  return bindGroupLayout(gpu.device, spec.bindings);
}

/** Whether a variant's pipeline is already in this device's cache. */
export function kernelCached(gpu: Gpu, spec: KernelSpec, v: Partial<Variant> = {}): boolean {
  return caches.get(gpu.device)?.has(variantKey(spec, v)) ?? false;
}

/**
 * The kernel work a call does before (and between) its GPU runs, the first time a shape is seen: on a CPU
 * adapter it can take most of a first call (tens of seconds) with nothing else to report.
 * - `compile`: compute pipelines being created (createComputePipelineAsync), `done` of `total` in one batch;
 *   an event with done 0 when a batch starts, then one as each pipeline finishes (the last: done === total).
 * - `tune`: autotuning (mode 'auto', shapes not in the tuning cache) timing candidate kernels of one op
 *   `family` (e.g. `gemm`) for a shape `bucket` (e.g. `f32 M4096 N2048 K2048`) among `candidates`; `done` of
 *   `total` buckets of the plan being tuned: an event as each bucket's timing starts (done: buckets timed so
 *   far), and one after the last (done === total). `where`: the tuning cache the choices go to (null: none).
 *   `explicit`: false for the tuning a run does by itself before a plan's first run, true for a tunePlan
 *   call (`tessera tune`, a benchmark's forced timing). Timing a candidate compiles it: `compile` events
 *   come in between.
 */
export type KernelEvent =
  | { type: 'compile'; done: number; total: number }
  | { type: 'tune'; family: string; bucket: string; candidates: readonly string[]; done: number; total: number; where: string | null; explicit: boolean };

const watchers = new WeakMap<GPUDevice, Set<(e: KernelEvent) => void>>();
// watchAllKernels: for a process whose devices are acquired inside the loaders (the CLI)
const everyDevice = new Set<(e: KernelEvent) => void>();

/**
 * Calls `listener` with every KernelEvent of `gpu`'s device (kernel compilation and autotuning, whichever
 * object's call causes it: models, pipelines, VAEs and text encoders on that device) until the returned
 * function is called. For the calls with no progress hook of their own (loadModel's forward, generate(),
 * vae.decode); Pipeline.generate's `onKernels` is this, scoped to the call. A listener that throws fails the
 * call whose work it was reporting (the error reaches that call's caller).
 * @throws TypeError when `listener` is not a function.
 */
export function watchKernels(gpu: Gpu, listener: (e: KernelEvent) => void): () => void {
  if (typeof listener !== 'function') throw new TypeError(`watchKernels: listener must be a function, got ${listener === null ? 'null' : typeof listener}`);
  let set = watchers.get(gpu.device);
  if (!set) watchers.set(gpu.device, (set = new Set()));
  // a wrapper per call: the same function watched twice is called twice, and each unwatch removes its own
  const own = (e: KernelEvent) => listener(e);
  set.add(own);
  return () => void set.delete(own);
}

/**
 * watchKernels for every device, those acquired later included, until the returned function is
 * called: the CLI's progress lines ("compiling kernels i/N", the autotuning line), whose devices the
 * loaders acquire. Internal: library users watch a device (watchKernels) or a call (onKernels).
 * @throws TypeError when `listener` is not a function.
 */
export function watchAllKernels(listener: (e: KernelEvent) => void): () => void {
  if (typeof listener !== 'function') throw new TypeError(`watchAllKernels: listener must be a function, got ${listener === null ? 'null' : typeof listener}`);
  const own = (e: KernelEvent) => listener(e);
  everyDevice.add(own);
  return () => void everyDevice.delete(own);
}

/** Tells the device's watchers (watchKernels), then those of every device (watchAllKernels), of `e`. */
export function emitKernelEvent(device: GPUDevice, e: KernelEvent): void {
  const set = watchers.get(device);
  if (set) for (const w of [...set]) w(e);
  for (const w of [...everyDevice]) w(e);
}

/**
 * Create the pipelines of `list` not yet cached, all at once with createComputePipelineAsync (the
 * implementation may compile them in parallel; the host does not block), into the cache
 * `getKernel` reads. Progress: `onProgress(done, total)` as each finishes (when given), a Hook (src/hook.ts): a
 * promise it returns is awaited, and one that throws or rejects fails the call as `WHERE: onProgress failed: …`
 * (`where`, default 'Plan.compile') without breaking the compilation: failing at the batch's start (done 0), before
 * any pipeline is created, it fails the call at once; later, with pipelines in flight, it is not called again once
 * its failure is known, the batch goes on to its end (every pipeline lands in the cache, the watchers see every event) and then the call
 * fails (with the batch's ShaderError first, when one failed too). 'compile' KernelEvents go to the device's
 * watchers (watchKernels, watchAllKernels); nothing when all are cached.
 * A variant that fails is a ShaderError `KEY: pipeline creation failed: kernels/foo.wgsl:LINE:COL:
 * message[; …]` (KEY: kernel, flags and override knobs; up to three compiler errors, each at the line
 * of the kernel's or prelude's own source; a pipeline the device refused, in the kernel's terms: pipelineRefusal); the
 * others still land in the cache. Unlike `compileKernels`, no warm-up dispatch.
 */
export async function compilePipelines(gpu: Gpu, list: readonly { spec: KernelSpec; variant?: Partial<Variant> }[], onProgress?: Hook<[done: number, total: number]> | null, where = 'Plan.compile'): Promise<void> {
  const device = gpu.device;
  let cache = caches.get(device);
  if (!cache) caches.set(device, (cache = new Map()));
  const todo = new Map<string, { spec: KernelSpec; variant: Variant }>();
  for (const { spec, variant: v } of list) {
    const variant = resolveVariant(spec, v);
    const key = variantKey(spec, variant);
    if (cache.has(key) || todo.has(key)) continue;
    checkVariantSupported(gpu, spec, variant);
    todo.set(key, { spec, variant });
  }
  if (todo.size === 0) return;
  let done = 0;
  // onProgress as every tessera callback (src/hook.ts): a promise it returns is awaited (by the pipeline whose
  // creation it reports), one that throws or rejects fails the call naming it: at once at the start, before any
  // pipeline is created; once pipelines are in flight, at the end, so that its failure stops none of them
  const event = (d: number) => emitKernelEvent(device, { type: 'compile', done: d, total: todo.size });
  await callHook('onProgress', where, onProgress ?? undefined, 0, todo.size);
  event(0);
  let hookFailed: { e: unknown } | undefined;
  const report = async (d: number) => {
    if (!hookFailed) {
      try {
        await callHook('onProgress', where, onProgress ?? undefined, d, todo.size);
      } catch (e) {
        hookFailed = { e };
      }
    }
    event(d);
  };
  const results = await Promise.allSettled(
    [...todo].map(async ([key, { spec, variant }]) => {
      // WGSL errors are reported below with the variant's name, not as uncaptured device errors
      device.pushErrorScope('validation');
      const src = variantSourceMapped(spec, variant);
      const module = device.createShaderModule({ label: key, code: src.text });
      void device.popErrorScope();
      const layout = bindGroupLayout(device, spec.bindings);
      let pipeline: GPUComputePipeline;
      try {
        pipeline = await device.createComputePipelineAsync({
          label: key,
          layout: device.createPipelineLayout({ label: key, bindGroupLayouts: [layout] }),
          compute: { module, entryPoint: spec.entry ?? 'main', constants: variant.overrides },
        });
      } catch (e) {
        const info = await module.getCompilationInfo().catch(() => null);
        const msgs = (info?.messages ?? []).filter((m) => m.type === 'error').slice(0, 3).map((m) => sourceMessage(key, src.lines, m));
        // no compiler message: the device refused the pipeline (a workgroup over a limit), said in the kernel's terms
        throw new ShaderError(`${key}: pipeline creation failed: ${msgs.length ? msgs.join('; ') : pipelineRefusal(spec, variant, src, (e as Error).message, gpu.limits)}`);
      }
      cache.set(key, { key, pipeline, layout, spec, variant });
      await report(++done);
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  if (hookFailed) throw hookFailed.e;
}

/**
 * The device limit a pipeline-creation message (Dawn's wording) is about, whether @workgroup_size sets it, and the
 * limit's value(s) when the message gives them (`max`: one value, or X, Y, Z for the per-axis limit; `axes`: the
 * indices of the axes over it).
 */
function pipelineLimit(message: string): { limit: string; atSize: boolean; max?: number[]; axes?: number[]; used?: number } | null {
  const allowed = /allowed \((\d+)(?: bytes)?\)/i.exec(message);
  const max = allowed ? { max: [Number(allowed[1])] } : {};
  // "The total number of workgroup invocations (1024) exceeds the maximum allowed (256)."
  if (/workgroup invocations/i.test(message)) return { limit: 'maxComputeInvocationsPerWorkgroup', atSize: true, ...max };
  // "Entry-point uses workgroup_size(1, 1, 128) that exceeds the maximum allowed (1024, 1024, 64)."
  const size = /workgroup_size\(([\d, ]+)\)[^(]*allowed \(([\d, ]+)\)/i.exec(message);
  if (size) {
    const [want, maxes] = [size[1]!, size[2]!].map((t) => t.split(',').map(Number));
    const over = [0, 1, 2].filter((i) => want![i]! > maxes![i]!);
    const axes = over.length ? over : [0, 1, 2];
    return { limit: axes.map((i) => `maxComputeWorkgroupSize${'XYZ'[i]}`).join(', '), atSize: true, max: maxes, axes };
  }
  // "The total use of workgroup storage (65536 bytes) is larger than the maximum allowed (32768 bytes)."
  if (/workgroup storage/i.test(message)) {
    const used = /storage \((\d+) bytes\)/i.exec(message);
    return { limit: 'maxComputeWorkgroupStorageSize', atSize: false, ...max, ...(used ? { used: Number(used[1]) } : {}) };
  }
  return null;
}

/**
 * A pipeline-creation error of a variant whose WGSL compiled (e.g. `@workgroup_size(WG, 32)` over
 * the device's invocation limit), as compileCheck reports it: one line at the source line the user
 * wrote, the entry point's `@workgroup_size` attribute when the message is about the workgroup size,
 * else `fn ENTRY`: `kernels/FILE.wgsl:LINE:COL: pipeline creation failed: SENTENCE: this device's
 * LIMIT`, with Dawn's first sentence and without its "While calling …" trail (identical for every
 * variant, so the profiler shows it once). `KEY: pipeline creation failed: …` when no line is found.
 */
export function pipelineErrorMessage(key: string, src: MappedSource, entry: string, message: string): string {
  const { where, text } = locatePipelineError(src, entry, message);
  return `${where ?? key}: pipeline creation failed: ${text}`;
}

/** pipelineErrorMessage's parts: the source line (`kernels/FILE.wgsl:LINE:COL`, null when not found) and the text after it. */
function locatePipelineError(src: MappedSource, entry: string, message: string): { where: string | null; text: string } {
  const first = message.split('\n')[0]!.trim();
  const sentence = (/^[\s\S]*?\.(?=\s|$)/.exec(first)?.[0] ?? first).replace(/\.$/, '');
  const lim = pipelineLimit(sentence);
  const text = `${sentence}${lim ? `: this device's ${lim.limit}` : ''}`;
  const out = src.text.split('\n');
  const fnAt = out.findIndex((l) => new RegExp(`\\bfn\\s+${entry}\\s*\\(`).test(l));
  let at = fnAt;
  let col = fnAt >= 0 ? out[fnAt]!.indexOf('fn') + 1 : 0;
  if (lim?.atSize && fnAt >= 0) {
    // the attribute is on the fn line or on the attribute lines just above it
    for (let i = fnAt; i >= 0 && (i === fnAt || /^\s*(@|\/\/|$)/.test(out[i]!)); i--) {
      const c = out[i]!.indexOf('@workgroup_size');
      if (c >= 0) {
        [at, col] = [i, c + 1];
        break;
      }
    }
  }
  const line = at >= 0 ? src.lines[at] : null;
  return { where: line ? `${line.file}:${line.line}:${col}` : null, text };
}

/** Ops whose tile knobs `tessera bench OP --tile K=V,…` sets. */
const BENCH_TILE_OPS = ['gemm', 'attention', 'conv'];

/**
 * A pipeline creation the device refused (the WGSL compiled), for a run's error (compilePipelines; the CLI
 * shows it): where in the kernel's file and what to change, in the kernel's own terms rather than at `fn main`.
 * - a workgroup size over a limit: at `@workgroup_size` (`kernels/FILE.wgsl:LINE:COL`), the knobs of the
 *   variant that set it and the bound they must keep, from the limit's value (`… is set by the knobs WGX=64,
 *   WGY=32: it fits when WGX·WGY ≤ 256`; per axis `WGZ ≤ 64`);
 * - workgroup memory over the limit: `kernels/FILE.wgsl` (no line) and the knobs sizing its `var<workgroup>`
 *   arrays, through the overrides derived from them (gemm_tiled's BM = WGY·TM), and the bound in bytes;
 * - a binding the layout lacks: at the `@binding(N)` declaration past the op's bindings, and what the op binds;
 * - anything else: `kernels/FILE.wgsl` and Dawn's first sentence.
 * ` (tessera bench OP --tile …)` follows the knobs of the ops whose benchmark takes them (BENCH_TILE_OPS).
 * compileCheck keeps the WGSL line (`fn main` when nothing better), which the profiler page's editor marks.
 * The limit's value is the one in Dawn's message, else `limits`' (the device's); without either no bound is given.
 */
export function pipelineRefusal(spec: KernelSpec, variant: Variant, src: MappedSource, message: string, limits?: Partial<Record<string, number>>): string {
  const { where, text } = locatePipelineError(src, spec.entry ?? 'main', message);
  const lim = pipelineLimit(text);
  const file = `kernels/${spec.name}.wgsl`;
  const out = src.text.split('\n');
  // knob names an expression reads, through overrides defined from other knobs (`override BM: u32 = WGY * TM;`)
  const defs = new Map<string, string>();
  for (const l of out) {
    const m = /^\s*override\s+(\w+)\s*:\s*\w+\s*=\s*([^;]*);/.exec(l);
    if (m) defs.set(m[1]!, m[2]!);
  }
  const knobsIn = (expr: string, seen = new Set<string>()): Set<string> => {
    for (const id of expr.match(/\b[A-Za-z_]\w*\b/g) ?? []) {
      if (seen.has(id)) continue;
      seen.add(id);
      if (!(id in variant.overrides) && defs.has(id)) knobsIn(defs.get(id)!, seen);
    }
    return new Set([...seen].filter((id) => id in variant.overrides));
  };
  const family = spec.family ?? spec.name;
  const knobLine = (knobs: Set<string>, what: string, bound: string | null) => {
    if (!knobs.size) return `; ${what} is fixed in ${file}`;
    const set = [...knobs].sort().map((k) => `${k}=${variant.overrides[k]}`);
    const bench = BENCH_TILE_OPS.includes(family) ? ` (tessera bench ${family} --tile ${[...knobs].sort().map((k) => `${k}=…`).join(',')})` : '';
    return `; ${what} is set by the knob${knobs.size > 1 ? 's' : ''} ${set.join(', ')}${bound ? `: it fits when ${bound}` : ''}${bench}`;
  };
  // the limit's value: Dawn's message gives it; else the device's limits
  const max = lim?.max?.[0] ?? (lim && !lim.axes ? limits?.[lim.limit] : undefined);
  if (lim?.atSize) {
    const attr = /@workgroup_size\(([^)]*)\)/.exec(src.text)?.[1] ?? '';
    const dims = attr.split(',').map((t) => t.trim()).filter((t) => t !== '');
    const literal = (t: string) => /^\d+u?$/.test(t);
    const factor = (t: string) => (/^\w+$/.test(t) ? t : `(${t})`);
    let bound: string | null = null;
    if (lim.axes) {
      // per axis: each axis over its limit, by the expression that sets it
      const over = lim.axes.filter((i) => dims[i] !== undefined && !literal(dims[i]!));
      bound = over.length ? over.map((i) => `${factor(dims[i]!)} ≤ ${lim.max![i]}`).join(' and ') : null;
    } else if (max !== undefined) {
      // the product of the sizes: the literal ones divided out of the limit
      const fixed = dims.filter(literal).reduce((p, t) => p * parseInt(t, 10), 1);
      const free = dims.filter((t) => !literal(t));
      bound = free.length ? `${free.map(factor).join('·')} ≤ ${Math.floor(max / fixed)}` : null;
    }
    return `${where ?? file}: ${text}${knobLine(knobsIn(attr), `its workgroup size (@workgroup_size(${attr}))`, bound)}`;
  }
  if (lim) {
    const arrays = out.map((l) => /^\s*var<workgroup>\s+(\w+)\s*:\s*array<.*,\s*([^>]*)>\s*;/.exec(l)).filter((m): m is RegExpExecArray => !!m);
    const knobs = new Set(arrays.flatMap((m) => [...knobsIn(m[2]!)]));
    const names = arrays.map((m) => m[1]).join(', ') || 'var<workgroup>';
    const bound = max !== undefined ? `${arrays.length > 1 ? 'together they take' : 'it takes'} ≤ ${max} bytes${lim.used !== undefined ? ` (${lim.used} now)` : ''}` : null;
    return `${file}: ${text}${knobLine(knobs, `its workgroup memory (${names})`, bound)}`;
  }
  if (/binding/i.test(text)) {
    const n = spec.bindings.length;
    const at = out.findIndex((l) => Number(/^\s*@group\(0\)\s*@binding\((\d+)\)/.exec(l)?.[1] ?? -1) >= n);
    const line = at >= 0 ? src.lines[at] : null;
    if (line) return `${line.file}:${line.line}:1: ${text}; ${spec.name}'s op binds @group(0) @binding(0) to @binding(${n - 1}) only: a binding outside them has no buffer`;
  }
  return `${file}: ${text}`;
}

/**
 * Compile a variant and collect its compilation messages (for tests and the profiler's editor):
 * `kernels/foo.wgsl:LINE:COL: message`, LINE being the line of the kernel's (or prelude's) own
 * source, as the user wrote it (through the preprocessor's line map), COL the compiler's column;
 * `key` (the variant key: flags and override knobs) names the variant compiled. A pipeline
 * validation error without a compiler message (the WGSL compiled, creating the pipeline failed:
 * a workgroup over a device limit) is one line at `@workgroup_size` or `fn main`
 * (pipelineErrorMessage). Throws a ShaderError for preprocessing errors (an undeclared flag, an
 * unknown directive).
 */
export async function compileCheck(gpu: Gpu, spec: KernelSpec, v: Partial<Variant> = {}): Promise<{ key: string; errors: string[]; warnings: string[] }> {
  const device = gpu.device;
  const variant = resolveVariant(spec, v);
  const key = variantKey(spec, variant);
  const src = variantSourceMapped(spec, variant);
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: key, code: src.text });
  const info = await module.getCompilationInfo();
  device.createComputePipeline({
    label: key,
    layout: device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout(device, spec.bindings)] }),
    compute: { module, entryPoint: spec.entry ?? 'main', constants: variant.overrides },
  });
  const scope = await device.popErrorScope();
  const fmt = (m: GPUCompilationMessage) => sourceMessage(key, src.lines, m);
  const errors = info.messages.filter((m) => m.type === 'error').map(fmt);
  if (scope && errors.length === 0) errors.push(pipelineErrorMessage(key, src, spec.entry ?? 'main', scope.message));
  return { key, errors, warnings: info.messages.filter((m) => m.type === 'warning').map(fmt) };
}

/**
 * Drop the cached pipelines built from source `name` (after it was edited live): those of kernel `name`
 * and of every kernel whose `prelude` lists `name` (e.g. each kernel that includes 'common/wg_sum').
 */
export function invalidateKernel(gpu: Gpu, name: string): void {
  const cache = caches.get(gpu.device);
  if (!cache) return;
  for (const [k, c] of cache) if (c.spec.name === name || c.spec.prelude?.includes(name)) cache.delete(k);
}

/** Whether the device has every feature the spec and variant `v` need. */
export function variantUsable(gpu: Pick<Gpu, 'f16' | 'subgroups'>, spec: KernelSpec, v: Variant): boolean {
  const has = (feat: 'shader-f16' | 'subgroups') => (feat === 'shader-f16' ? gpu.f16 : gpu.subgroups);
  return (spec.requires ?? []).every(has) && Object.entries(spec.needs ?? {}).every(([flag, feat]) => !v.flags[flag] || has(feat!));
}

/**
 * Every variant worth compiling: all valid flag combinations with default knobs, plus each
 * override value one at a time under every combination of the feature flags (`needs`, e.g. F16
 * and SG), whose code paths use the knobs differently (workgroup memory of f16 vs f32, the
 * subgroup path's tiling); other flags stay at their defaults there.
 */
export function declaredVariants(spec: KernelSpec): Variant[] {
  const combos = (names: string[]) => {
    let out: Record<string, boolean>[] = [{}];
    for (const f of names) out = out.flatMap((c) => spec.flags[f]!.map((val) => ({ ...c, [f]: val })));
    return out;
  };
  const valid = (flags: Record<string, boolean>) => !spec.valid || spec.valid(resolveFlags(spec, flags));
  const out: Variant[] = combos(Object.keys(spec.flags)).filter(valid).map((flags) => resolveVariant(spec, { flags }));
  const featureCombos = combos(Object.keys(spec.needs ?? {}).filter((f) => f in spec.flags)).filter(valid);
  for (const [o, allowed] of Object.entries(spec.overrides)) {
    for (const val of allowed.slice(1)) for (const flags of featureCombos) out.push(resolveVariant(spec, { flags, overrides: { [o]: val } }));
  }
  return out;
}

/** `flags` completed with each undeclared-here flag's default. */
function resolveFlags(spec: KernelSpec, flags: Record<string, boolean>): Record<string, boolean> {
  return Object.fromEntries(Object.entries(spec.flags).map(([f, allowed]) => [f, flags[f] ?? allowed[0]!]));
}

/**
 * Compile variants ahead of their first real dispatch into the cache `getKernel` reads; variants
 * already cached are skipped. Returns the variant keys. Throws like getKernel (unsupported
 * feature, undeclared flag/override value, WGSL errors). Lavapipe (llvmpipe) generates a
 * pipeline's machine code on its first dispatch, seconds per variant, so each new pipeline is
 * dispatched once here on one workgroup with zeroed uniforms and small zeroed buffers (kernels
 * return early or do nothing for zero sizes; out-of-range accesses are clamped by WebGPU).
 * For tests: a file compiles what it needs once, up front, outside any test's time.
 */
export async function compileKernels(gpu: Gpu, list: readonly { spec: KernelSpec; variant?: Partial<Variant> }[]): Promise<string[]> {
  const device = gpu.device;
  const had = new Set(caches.get(device)?.keys() ?? []);
  const fresh = [...new Set(list.map(({ spec, variant }) => variantKey(spec, variant)))].filter((k) => !had.has(k));
  await compilePipelines(gpu, list, null);
  const compiled = fresh.map((k) => caches.get(device)!.get(k)!);
  const zeros: GPUBuffer[] = [];
  const buffer = (usage: number) => {
    const b = device.createBuffer({ label: 'compileKernels', size: 4096, usage });
    zeros.push(b);
    return b;
  };
  try {
    for (const c of compiled) {
      const enc = device.createCommandEncoder({ label: `compile ${c.key}` });
      const pass = enc.beginComputePass();
      pass.setPipeline(c.pipeline);
      pass.setBindGroup(0, device.createBindGroup({
        layout: c.layout,
        entries: c.spec.bindings.map((b, i) => ({ binding: i, resource: { buffer: buffer(b === 'uniform' ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) } })),
      }));
      pass.dispatchWorkgroups(1);
      pass.end();
      device.queue.submit([enc.finish()]);
      // gpuWait: lavapipe generates the pipeline's machine code at this dispatch (seconds), which Dawn's busy
      // wait would share with a spinning core
      await gpuWait(gpu, device.queue.onSubmittedWorkDone());
    }
  } finally {
    zeros.forEach((b) => b.destroy());
  }
  return [...new Set(list.map(({ spec, variant }) => variantKey(spec, variant)))];
}
