// `tessera info`: adapter, features, limits and which kernel variants apply.
import { acquireGpu, describeAdapter, OPTIONAL_FEATURES } from '../gpu/device.js';
import { llvmpipeThreadsOf } from '../gpu/node.js';
import { kernelRegistry } from '../gpu/kernel.js';
import { cachedChoices, cachedElsewhere, TUNE_MARGIN, defaultTuneMode, implicitTuneMinFlops, tuneAdapterKey, tuneCacheReplaceable, tuneCacheUnreadable, tuneStoreWhere, type TuneEntry } from '../gpu/tune.js';
import { describeGemmStrategy, GEMM_CANDIDATES, gemmCandidates, gemmCandidatesFor, gemmHeuristic } from '../ops/gemm.js';
import { ATTENTION_STRATEGIES, attentionCandidates, attentionHeuristic } from '../ops/attention.js';
import type { Gpu } from '../gpu/device.js';
import '../ops/all.js';

/** Shapes [M, K, N] at which `tessera info` shows the GEMM heuristic (no tuning), each with the model call it is an example of. */
const INFO_GEMM_SHAPES: [number, number, number, string][] = [
  [2, 1536, 9216, "Wan-1.3B's timestep projection, 2 rows (CFG)"],
  [64, 1152, 1152, 'a 1152-wide linear (DiT-XL, Latte) at 64 token rows'],
  [4096, 1152, 1152, 'the same at 4096 token rows'],
];
import type { Command } from './main.js';

/** Limits measured in bytes (the others count invocations, workgroups or bindings). */
const BYTE_LIMIT = /(?:BufferSize|BindingSize|StorageSize|Alignment|Stride|Bytes\w*)$/;

/** Binary size with its unit, trailing zeros dropped, '≈' when rounded: 134217728 → "128 MiB", 1.5·2^30 → "1.5 GiB", 2^32 − 1 → "≈4 GiB". */
function binaryUnits(n: number): string {
  for (const [u, k] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (n < k) continue;
    const shown = +(n / k).toFixed(2);
    return `${shown === n / k ? '' : '≈'}${shown} ${u}`;
  }
  return `${n} bytes`;
}

/**
 * A limit as `tessera info` prints it: byte limits with human units ("134217728 (128 MiB)",
 * "4294967295 (≈4 GiB)", "256 bytes"), counts as the bare number. The --json output keeps the raw numbers.
 */
export function formatLimit(name: string, value: number): string {
  if (!BYTE_LIMIT.test(name)) return String(value);
  return value < 1024 ? `${value} bytes` : `${value} (${binaryUnits(value)})`;
}

/**
 * Why a cached tuning entry (key `family|bucket`, as cachedChoices gives it) cannot be used on this
 * adapter, or null when it can. A run uses an entry only when its choice is one of the call's
 * candidates (tune.ts settlePlan), else it keeps the heuristic and re-tunes; so an entry whose
 * choice is not a strategy of its op, cannot run here, or is damaged is named as unusable rather
 * than listed as a choice. For gemm the test is whether the name runs on this adapter (the
 * candidates of one call depend on its exact M, N and K, which the bucket rounds); for attention
 * it is the bucket's candidate list (its head dim is exact).
 */
export function cachedChoiceProblem(gpu: Gpu, key: string, entry: unknown): string | null {
  const e = entry as Partial<TuneEntry> | null;
  if (!e || typeof e !== 'object' || typeof e.choice !== 'string') return 'damaged entry: no choice name';
  if (!e.ms || typeof e.ms !== 'object') return 'damaged entry: no timings';
  const [family, bucket = ''] = key.split(/\|(.*)/s, 2) as [string, string?];
  const c = JSON.stringify(e.choice);
  if (family === 'gemm') {
    if (!(GEMM_CANDIDATES as readonly string[]).includes(e.choice)) return `${c} is not a gemm strategy (${GEMM_CANDIDATES.join(', ')})`;
    const here = gemmCandidatesFor(gpu);
    return (here as string[]).includes(e.choice) ? null : `${c} cannot run on this adapter (usable: ${here.join(', ')})`;
  }
  if (family === 'attention') {
    const names: readonly string[] = [...ATTENTION_STRATEGIES, 'rows-dh'];
    if (!names.includes(e.choice)) return `${c} is not an attention strategy (${names.join(', ')})`;
    const dh = /\bDh(\d+)\b/.exec(bucket);
    const here = attentionCandidates(gpu, dh ? Number(dh[1]) : undefined);
    return (here as string[]).includes(e.choice) ? null : `${c} is not a candidate for this bucket on this adapter (${here.join(', ')})`;
  }
  return `no tuned op is called ${JSON.stringify(family)} (gemm, attention)`;
}

/**
 * A cached choice as the tuner decided it (TuneEntry.verdict, ratio, interval): `subgroup-sr16 reference; subgroup-sr32
 * chosen: faster, ratio 0.82 (0.78–0.86); tiled-64 not faster, ratio 1.40 (1.35–1.45)`, an undecided challenger that timed
 * faster reading `undecided, ratio 0.97 (0.90–1.05)`, not a winner. A lone candidate: `the only candidate`. An entry cached
 * before the tuner kept verdicts: each candidate's fastest round, said so (they were never what it decided by).
 */
export function tunerVerdicts(e: Pick<TuneEntry, 'choice' | 'ms' | 'ratio' | 'verdict' | 'interval'>): string {
  const names = Object.keys(e.ratio ?? e.ms);
  if (names.length === 1) return 'the only candidate';
  if (!e.ratio || !e.verdict) return `fastest round ms: ${Object.entries(e.ms).map(([n, v]) => `${n} ${Number(v).toFixed(2)}`).join(', ')} (cached before the tuner's verdicts were kept: tessera tune --force re-times it)`;
  const fig = (x: number) => Number(x).toFixed(2);
  const parts = names.map((n, i) => {
    const chosen = n === e.choice ? ' chosen' : '';
    if (i === 0) return `${n} reference${chosen}`;
    const iv = e.interval?.[n];
    return `${n}${chosen ? ' chosen:' : ''} ${e.verdict![n] ?? 'undecided'}, ratio ${fig(e.ratio![n]!)}${iv ? ` (${fig(iv[0])}–${fig(iv[1])})` : ''}`;
  });
  return parts.join('; ');
}

export const infoCommand: Command = {
  spec: {
    name: 'info',
    summary: 'show the WebGPU adapter, its features and limits, and the kernel variants that apply',
    usage: 'tessera info [--json]',
    flags: { json: { type: 'bool', help: 'print one JSON object' } },
  },
  async run(p) {
    const gpu = await acquireGpu();
    try {
      const kernels = [...kernelRegistry.values()].map((k) => {
        const flags = Object.keys(k.flags).filter((f) => {
          const need = k.needs?.[f];
          return !need || (need === 'shader-f16' ? gpu.f16 : gpu.subgroups);
        });
        return { name: k.name, flags, overrides: k.overrides };
      });
      const info = {
        adapter: { ...gpu.adapterInfo, summary: describeAdapter(gpu) },
        runtime: gpu.runtime,
        features: Object.fromEntries(OPTIONAL_FEATURES.map((f) => [f, f === 'shader-f16' ? gpu.f16 : f === 'timestamp-query' ? gpu.timestamps : gpu.subgroups])),
        limits: gpu.limits,
        dtypes: gpu.f16 ? ['f32', 'f16'] : ['f32'],
        kernels,
        adapter_policy: {
          cpu: gpu.isCpu,
          subgroup_min_size: gpu.subgroupMinSize,
          subgroup_max_size: gpu.subgroupMaxSize,
          // Mesa's llvmpipe worker threads (LP_NUM_THREADS: the user's, else tessera's default, src/gpu/node.ts); null on other adapters
          llvmpipe_threads: llvmpipeThreadsOf(gpu),
        },
        tuning: {
          mode: defaultTuneMode(),
          // a run times only calls of at least this many FLOPs (tessera tune times every one)
          min_flops: implicitTuneMinFlops(),
          cache: tuneStoreWhere(),
          // the adapter part of the cache's keys (with llvmpipe's thread count on lavapipe): choices are kept per key
          adapter_key: tuneAdapterKey(gpu),
          heuristics: [
            ...INFO_GEMM_SHAPES.map(([m, k, n, example]) => {
              const h = gemmHeuristic(gpu, m, n);
              return { op: 'gemm', shape: `${m}×${k}×${n}`, example, strategy: h, kernel: describeGemmStrategy(h, m, n, k), candidates: gemmCandidates(gpu, m, n, k) };
            }),
            // attention: one choice per adapter whatever the shape (the tuner buckets by shape)
            { op: 'attention', shape: 'any', example: null, strategy: attentionHeuristic(gpu), kernel: attentionHeuristic(gpu) === 'rows' ? 'attention' : 'attention_fa2', candidates: attentionCandidates(gpu) },
          ],
          choices: (defaultTuneMode() === 'off' ? {} : await cachedChoices(gpu)) as Record<string, TuneEntry>,
          cache_error: tuneCacheUnreadable(), // why the cache file could not be read (it then counts as empty), or null
          unusable: {} as Record<string, string>, // cached entries a run ignores (and re-tunes): key → why
          // this adapter's entries cached under another key detail (another llvmpipe thread count; '': saved before tessera keyed by it), not used now: detail → count
          elsewhere: defaultTuneMode() === 'off' ? {} : await cachedElsewhere(gpu),
        },
      };
      for (const [k, e] of Object.entries(info.tuning.choices)) {
        const why = cachedChoiceProblem(gpu, k, e);
        if (why) info.tuning.unusable[k] = why;
      }
      if (p.json) {
        console.log(JSON.stringify(info));
        return 0;
      }
      console.log(`adapter   ${info.adapter.summary} (${info.runtime})`);
      console.log(`features  ${Object.entries(info.features).map(([f, on]) => `${f}:${on ? 'yes' : 'no'}`).join('  ')}`);
      console.log(`dtypes    ${info.dtypes.join(', ')}`);
      console.log('limits');
      for (const [k, v] of Object.entries(info.limits)) console.log(`  ${k.padEnd(36)} ${formatLimit(k, v)}`);
      console.log('kernels (variant flags usable on this adapter; override knobs)');
      for (const k of kernels) {
        const ov = Object.entries(k.overrides).map(([n, vals]) => `${n}∈{${vals.join(',')}}`).join(' ');
        console.log(`  ${k.name.padEnd(14)} [${k.flags.join(',')}] ${ov}`);
      }
      const t = info.tuning;
      const threads = info.adapter_policy.llvmpipe_threads;
      console.log(`adapter policy  ${gpu.isCpu ? 'CPU adapter (variants measured on lavapipe apply)' : 'GPU adapter (no CPU-tuned variant by heuristic)'}; subgroup sizes ${gpu.subgroupMinSize}..${gpu.subgroupMaxSize}${threads !== null ? `; llvmpipe threads ${threads} (LP_NUM_THREADS)` : ''}`);
      console.log(`tuning    mode ${t.mode}; cache ${t.cache ?? 'none (this process only)'}; a run times calls of ≥ ${t.min_flops.toExponential(2)} FLOPs (TESSERA_TUNE_MIN_FLOPS), tessera tune every call`);
      console.log("  heuristic choices (used when nothing is cached, and always with --no-tune): the GEMM's by shape, at three example calls; attention's, one for every shape");
      for (const h of t.heuristics) console.log(`    ${h.op} ${(h.op === 'gemm' ? `m×k×n ${h.shape}` : h.shape).padEnd(22)} ${h.strategy} = ${h.kernel}  (tuner candidates: ${h.candidates.join(', ')})${h.example ? ` — example: ${h.example}` : ''}`);
      const entries = Object.entries(t.choices);
      const unreadable = tuneCacheUnreadable();
      const here = `this adapter${threads !== null ? ` at ${threads} llvmpipe threads` : ''}`;
      console.log(entries.length ? `  tuned choices cached for ${here}`
        : unreadable ? `  no tuned choices: the cache is unreadable (warning above)${tuneCacheReplaceable() ? '; run tessera tune to replace it' : ''}`
        : `  no tuned choices cached for ${here} (run tessera tune)`);
      // what the verdicts' figures are (each entry's line: tunerVerdicts)
      if (entries.length) console.log(`    (each challenger against the heuristic, the reference: the tuner's verdict, its time over the reference's in the same rounds (geometric mean) and the interval the verdict was read from: faster when all of it is below ${1 - TUNE_MARGIN}, not faster when all of it is above)`);
      for (const [k, e] of entries) {
        const why = t.unusable[k];
        if (why) {
          console.log(`    ${k.padEnd(34)} unusable: ${why}; ignored (the heuristic runs until tuning replaces it)`);
          continue;
        }
        console.log(`    ${k.padEnd(34)} ${e.choice.padEnd(14)} ${tunerVerdicts(e)}${Array.isArray(e.rejected) ? `; rejected (wrong output): ${e.rejected.join(', ')}` : ''}`);
      }
      const elsewhere = Object.entries(t.elsewhere);
      if (elsewhere.length) {
        const n = elsewhere.reduce((a, [, c]) => a + c, 0);
        const where = elsewhere.map(([d, c]) => `${c} ${d ? `at ${d}` : 'saved before choices were kept per llvmpipe thread count'}`).join(', ');
        console.log(`  not used here: ${n} cached for this adapter at other settings (${where}); tessera tune times them for this one`);
      }
      return 0;
    } finally {
      gpu.destroy();
    }
  },
};
