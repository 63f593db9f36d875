// `tessera bench vae --vae-preset wan2.1|sd | --vae DIR [--frames F] --height H --width W [--batch B]`:
// milliseconds per decode (wall clock; median_ms as the other benchmarks) and peak GPU memory of a
// VAE decoder (latents → pixels), with the band plan. Presets are the released architectures
// (Wan2.1's AutoencoderKLWan, the SD/DiT/Latte AutoencoderKL) with seeded random weights. Before
// timing, the decode is checked: finite, a rerun is bit-identical, and (latent height ≥ 2) a
// decode split in 2 row bands matches the untiled one to f32 rounding. No float64 reference (a
// whole decoder in float64 on the CPU would take far longer than the decode), no GFLOP/s or
// ceiling share; of the common flags it takes --json, --dtype and --repeats (the two checked
// decodes warm it up; there is no single plan to trace).
import { describeAdapter, type Gpu } from '../gpu/device.js';
import { fmtBytes, type DType } from '../gpu/tensor.js';
import type { ModelFolder } from '../io/model-folder.js';
import type { TensorInfo } from '../io/safetensors.js';
import { median } from '../profile/profiler.js';
import { randn } from '../random.js';
import { parseVaeConfig, vaeDecoderKeys } from '../vae/config.js';
import { loadVae, type Vae } from '../vae/vae.js';
import { UsageError, type FlagSpec, type Parsed } from './args.js';
import { isQuiet, plural, progressBar } from './progress.js';
import { checkPathFlags } from './paths.js';
import { checkVariantFlag, variantOption } from './cmd-forward.js';
import { maxMemory } from './outputs.js';

export const VAE_PRESETS: Record<string, Record<string, unknown>> = {
  // Wan-AI/Wan2.1-T2V-1.3B-Diffusers vae/config.json (architecture fields)
  'wan2.1': { _class_name: 'AutoencoderKLWan', base_dim: 96, z_dim: 16, dim_mult: [1, 2, 4, 4], num_res_blocks: 2, temperal_downsample: [false, true, true], latents_mean: Array(16).fill(0), latents_std: Array(16).fill(1) },
  // stabilityai/sd-vae-ft-ema (DiT-XL-2-256 and Latte-1 vae/config.json)
  sd: { _class_name: 'AutoencoderKL', block_out_channels: [128, 256, 512, 512], layers_per_block: 2, norm_num_groups: 32, latent_channels: 4, in_channels: 3, out_channels: 3, up_block_types: Array(4).fill('UpDecoderBlock2D'), scaling_factor: 0.18215 },
};

export const VAE_FLAGS: Record<string, FlagSpec> = {
  'vae-preset': { type: 'choice', choices: Object.keys(VAE_PRESETS), help: 'vae: a released VAE architecture with seeded random weights', arg: 'NAME' },
  vae: { type: 'string', help: 'vae: a diffusers VAE folder instead of a preset', arg: 'DIR' },
};

export interface VaeBenchResult {
  bench: 'vae';
  label: string;
  vae: string;
  dtype: DType;
  adapter: string;
  latents: number[];
  sample: number[];
  bands: number;
  band_rows: number[];
  largest_binding: number;
  max_binding: number;
  repeats: number;
  /** Wall-clock milliseconds per decode over the repeats (as every benchmark's median_ms, min_ms, max_ms). */
  median_ms: number;
  /** Process CPU milliseconds per decode (median): lavapipe's worker threads count here, so on a loaded machine it says more than wall time. */
  median_cpu_ms: number;
  min_ms: number;
  max_ms: number;
  dispatches: number;
  /** GPU bytes at the peak: weight_bytes + peak_activation_bytes, as peak_bytes in every bench --json (it was the activations alone here). */
  peak_bytes: number;
  /** The decode's own buffers (activations, the Wan decoder's causal caches) at their peak (VaeStats.peakBytes). */
  peak_activation_bytes: number;
  weight_bytes: number;
  check: { finite: boolean; deterministic: boolean; banded_max_rel_err: number | null };
}

/** A model folder of seeded random weights (std 1/√fan-in, norms near 1) for a VAE config. */
function randomFolder(name: string, config: Record<string, unknown>, seed: number): ModelFolder {
  const want = vaeDecoderKeys(parseVaeConfig(config));
  const tensors = new Map<string, TensorInfo>([...want].map(([k, shape]) => [k, { name: k, dtype: 'F32', shape, begin: 0, end: 0, file: 'random' }]));
  const keys = [...want.keys()];
  return {
    name,
    config,
    tensors,
    shards: [],
    metadata: new Map(),
    source: () => Promise.reject(new Error('random weights have no file')),
    async readF32(k) {
      const shape = want.get(k)!;
      const n = shape.reduce((a, b) => a * b, 1);
      const i = keys.indexOf(k);
      if (/(gamma|norm[^.]*\.weight)$/.test(k)) return randn(n, seed + i, 0.1).map((v) => v + 1);
      if (k.endsWith('.bias')) return randn(n, seed + i, 0.05);
      return randn(n, seed + i, 1 / Math.sqrt(n / shape[0]!));
    },
    async close() {},
  };
}

const dimFlag = (p: Parsed, name: string, def?: number): number => {
  const v = (p[name] as number | undefined) ?? def;
  if (v === undefined) throw new UsageError(`tessera bench vae: give --${name}`);
  if (v < 1 || v > 4096) throw new UsageError(`--${name} must be between 1 and 4096, got ${v}`);
  return v;
};

/**
 * The VAE flags that need no GPU: exactly one of --vae-preset/--vae, --variant only with --vae and a plain
 * name (as bench model's with --model), --vae a folder that is not a pipeline root (one line naming the
 * flag, as forward/generate), and --max-memory a size. @throws UsageError.
 */
export function checkVaeFlags(p: Parsed): void {
  if ((p['vae-preset'] === undefined) === (p.vae === undefined)) throw new UsageError(`tessera bench vae: give exactly one of --vae-preset (${Object.keys(VAE_PRESETS).join(', ')}) or --vae DIR`);
  checkPathFlags(p, { withPipeline: false }); // a --vae folder that does not exist before the flags that do not depend on it
  if (p.variant !== undefined && p['vae-preset'] !== undefined) throw new UsageError(`--variant names a folder's weight files: it applies with --vae DIR, not --vae-preset (whose weights are made from --seed)`);
  checkVariantFlag(p);
  maxMemory(p); // a bad --max-memory (or TESSERA_MAX_GPU_MEMORY) before the GPU is acquired
}

/**
 * bench vae's progress (progressBar on stderr: a bar on a terminal, else plain lines; nothing with --quiet): "decodes
 * done/total" over the check's decodes and the timed ones, at most a line a second off a terminal (the first and the
 * last always), and inside a decode what it is and its `unit` (frames or images) done ("decodes 3/13  timed decode 1/10:
 * frames 4/9"), off a terminal only once a decode has gone DETAIL_EVERY_S without a line. `decode(what, run)` runs one
 * decode, `run` given the onProgress hook to pass to Vae.decode, and counts it done when it resolves.
 */
export function vaeBenchProgress(total: number, unit: 'frames' | 'images'): { decode<T>(what: string, run: (onProgress: (done: number, of: number) => void) => Promise<T>): Promise<T>; done(): void } {
  const bar = progressBar('decodes', { plainEvery: 1 });
  let finished = 0;
  return {
    async decode(what, run) {
      const r = await run((d, of) => bar.update(finished, total, `${what}: ${unit} ${d}/${of}`));
      bar.update(++finished, total);
      return r;
    },
    done: () => bar.done(),
  };
}

/** Times the VAE decode `p` asks for; the caller has checked its flags (checkVaeFlags) before acquiring `gpu`. */
export async function runVaeBench(gpu: Gpu, p: Parsed, c: { dtype: DType; repeats: number; json: boolean }): Promise<VaeBenchResult> {
  const preset = p['vae-preset'] as string | undefined;
  const dir = p.vae as string | undefined;
  const log = (m: string) => (isQuiet() ? undefined : c.json ? console.error(m) : console.log(m));
  const height = dimFlag(p, 'height', preset ? 8 : undefined);
  const width = dimFlag(p, 'width', preset ? 8 : undefined);
  const batch = dimFlag(p, 'batch', 1);
  const source = preset ? randomFolder(`preset ${preset}`, VAE_PRESETS[preset]!, (p.seed as number | undefined) ?? 0) : dir!;
  let shape: number[] = [];
  const vae: Vae = await loadVae(source, {
    gpu,
    dtype: c.dtype,
    ...variantOption(p),
    // weights + the decode's peak activations over it: refused before any weight is read (LimitError), as tessera decode
    maxMemory: maxMemory(p),
    preflight: (cfg) => {
      const zc = cfg.kind === 'wan' ? cfg.zDim : cfg.latentChannels;
      const frames = p.frames as number | undefined;
      shape = cfg.kind === 'wan' || frames !== undefined ? [batch, zc, dimFlag(p, 'frames', 2), height, width] : [batch, zc, height, width];
    },
  });
  try {
    const plan = vae.plan(shape);
    const latents = { data: randn(shape.reduce((a, b) => a * b, 1), 7), shape };
    log(`vae ${preset ?? dir} (${vae.config.raw['_class_name']}, ${vae.dtype}) latents [${shape.join(',')}] → sample [${plan.outShape.join(',')}], ${plural(plan.bands, 'row band')}; checking…`);
    // progress on stderr, one count over the check's decodes and the timed ones (a Wan decode at 480p takes most of a
    // minute on a CPU adapter: bench vae said nothing for minutes, user23 #3), with the frames of the decode under way
    const checks = height >= 2 ? 3 : 2;
    const bar = vaeBenchProgress(checks + c.repeats, shape.length === 5 ? 'frames' : 'images');
    const decode = (what: string, opts: { bands?: number } = {}) => bar.decode(what, (onProgress) => vae.decode(latents, { ...opts, onProgress }));
    const a = await decode('check decode 1');
    const b = await decode('check decode 2 (bit-identical rerun)');
    const finite = a.data.every(Number.isFinite);
    const deterministic = a.data.every((v, i) => Object.is(v, b.data[i]));
    let banded: number | null = null;
    if (height >= 2) {
      const t = await decode('check decode 3 (2 row bands)', { bands: 2 });
      let d = 0;
      let m = 0;
      a.data.forEach((v, i) => {
        d = Math.max(d, Math.abs(v - t.data[i]!));
        m = Math.max(m, Math.abs(v));
      });
      banded = d / m;
    }
    if (!finite || !deterministic || (banded !== null && banded > 1e-5)) {
      bar.done();
      throw new Error(`bench vae: the decode failed its check (finite ${finite}, bit-identical rerun ${deterministic}, 2 bands vs 1 max rel err ${banded}): no time reported`);
    }
    const times: number[] = [];
    const cpu: number[] = [];
    let stats = vae.lastStats!;
    for (let i = 0; i < c.repeats; i++) {
      const c0 = process.cpuUsage();
      await decode(`timed decode ${i + 1}/${c.repeats}`);
      const u = process.cpuUsage(c0);
      cpu.push((u.user + u.system) / 1e6);
      stats = vae.lastStats!;
      times.push(stats.seconds);
    }
    bar.done();
    const sorted = [...times].sort((x, y) => x - y);
    return {
      bench: 'vae',
      label: `vae ${preset ?? dir} [${shape.join(',')}]`,
      vae: String(vae.config.raw['_class_name']),
      dtype: vae.dtype,
      adapter: describeAdapter(gpu),
      latents: shape,
      sample: plan.outShape,
      bands: plan.bands,
      band_rows: plan.bandRows,
      largest_binding: plan.largestBinding,
      max_binding: plan.maxBinding,
      repeats: c.repeats,
      median_ms: median(times) * 1000,
      median_cpu_ms: median(cpu) * 1000,
      min_ms: sorted[0]! * 1000,
      max_ms: sorted[sorted.length - 1]! * 1000,
      dispatches: stats.dispatches,
      peak_bytes: stats.weightBytes + stats.peakBytes,
      peak_activation_bytes: stats.peakBytes,
      weight_bytes: stats.weightBytes,
      check: { finite, deterministic, banded_max_rel_err: banded },
    };
  } finally {
    vae.dispose();
  }
}

export function printVaeResult(r: VaeBenchResult, json: boolean): void {
  if (json) return;
  console.log(`${r.label}  [${r.vae}, ${r.dtype}, ${r.adapter}; checked: finite, bit-identical rerun, 2 bands vs 1 ${r.check.banded_max_rel_err === null ? 'n/a' : r.check.banded_max_rel_err.toExponential(2)}]`);
  console.log(`  sample [${r.sample.join(',')}]: median ${r.median_ms.toFixed(1)} ms per decode (${(r.median_cpu_ms / 1000).toFixed(2)} CPU-s; min ${r.min_ms.toFixed(1)}, max ${r.max_ms.toFixed(1)}, ${plural(r.repeats, 'repeat')}), ${r.dispatches} dispatches`);
  console.log(`  memory: peak ${fmtBytes(r.peak_bytes)} = weights ${fmtBytes(r.weight_bytes)} + activations and caches ${fmtBytes(r.peak_activation_bytes)}; ${plural(r.bands, 'row band')} of ${r.band_rows.join('/')} latent row${r.band_rows.every((n) => n === 1) ? '' : 's'}, largest binding ${fmtBytes(r.largest_binding)} of ${fmtBytes(r.max_binding)}`);
}
