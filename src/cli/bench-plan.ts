// `tessera bench plan --preset NAME | --model DIR [--frames F --height H --width W] [--text-len L] [--batch B] [--max-binding SIZE]`:
// the memory plan of one denoising step (the forward on the CFG batch), from a dry run of the
// model's recording code with placeholder weights: no GPU, no checkpoint (with --model only its
// config.json is read). Prints, per storage dtype, the activations as tessera held them before
// liveness (one buffer per scratch name, the FFN over all tokens at once) and now (buffers shared
// by liveness, the FFN over token chunks, Wan's token-wise layers item by item where needed), the largest live set, the largest buffer and the
// largest single binding against WebGPU's default maxStorageBufferBindingSize (128 MiB, as
// lavapipe reports it) or the --max-binding of the adapter at hand (the plan itself follows it: token
// chunks, item by item), and any count past what a kernel holds in 32 bits.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MemoryPlan } from '../gpu/memory-plan.js';
import { fmtBytes, type DType } from '../gpu/tensor.js';
import { parseConfig, patchDims, patchTokens, type ModelConfig } from '../model/config.js';
import { estimateWeights, planModel } from '../model/memory.js';
import { describeOverflow } from '../gpu/plan.js';
import { getPreset, type Preset } from '../model/presets.js';
import { UsageError, type FlagSpec, type Parsed } from './args.js';
import { checkPathFlags } from './paths.js';
import { sizeFlag } from './outputs.js';
import { plural } from '../plural.js';

/** WebGPU's default maxStorageBufferBindingSize, and what lavapipe reports. */
export const DEFAULT_BINDING = 128 * 2 ** 20;
/** Planned against a maxBufferSize as large as WebGPU allows a binding-limited adapter to report (4 GiB − 4). */
const MAX_BUFFER = 2 ** 32 - 4;

/** bench plan's own flags (the others it shares with bench model and vae). */
export const PLAN_FLAG_SPECS: Record<string, FlagSpec> = {
  'max-binding': {
    type: 'string',
    arg: 'SIZE',
    help: "plan: plan for an adapter of this maxStorageBufferBindingSize, e.g. 4GiB (an NVIDIA GPU under Dawn reports 4 GiB − 4; without it WebGPU's default of 128 MiB, lavapipe's), and a maxBufferSize as large or 4 GiB − 4",
  },
};

export const PLAN_FLAGS = ['preset', 'model', 'frames', 'height', 'width', 'text-len', 'batch', ...Object.keys(PLAN_FLAG_SPECS)];

export interface PlanRow {
  dtype: DType;
  dispatches: number;
  /** Scratch activations + persistent tensors, one buffer per scratch name, the FFN unchunked, the whole batch per dispatch (tessera before liveness). */
  activations_before: number;
  /** The same with buffers shared by liveness and the FFN over token chunks (what a run allocates now). */
  activations_after: number;
  scratch_by_name_unchunked: number;
  scratch_no_reuse: number;
  scratch_shared: number;
  scratch_max_live: number;
  /** Inputs, output, RoPE/position tables, cached cross-attention K/V. */
  persistent: number;
  shared_buffers: number;
  largest_buffer: { bytes: number; name: string };
  largest_binding: { bytes: number; name: string; layer: string };
  /** Largest binding before (FFN unchunked). */
  largest_binding_before: { bytes: number; name: string };
  fits_binding_limit: boolean;
  /** A count of some dispatch past what a kernel holds in 32 bits (the op, the count, the limit), or null: such a run cannot be recorded at any binding limit. */
  overflow: string | null;
}

export interface PlanBenchResult {
  bench: 'plan';
  model: string;
  family: ModelConfig['family'];
  layers: number;
  dim: number;
  ffn_dim: number;
  latent: number[];
  text: number[] | null;
  tokens_per_item: number;
  /**
   * Set when the plan is of a preset's small test latent (no --frames/--height/--width/--text-len given) and the
   * preset has a released size: that size in words ("480p (832×480) × 81 frames") and the flags that plan it.
   */
  test_latent: { released: string; flags: string } | null;
  /** The maxStorageBufferBindingSize planned for: --max-binding, else WebGPU's default 128 MiB. */
  binding_limit: number;
  weights: { f16: number; f32: number };
  rows: PlanRow[];
}

function configOf(p: Parsed): { name: string; cfg: ModelConfig; latent?: { frames: number; height: number; width: number }; textLen?: number; released?: Preset['released'] } {
  const preset = p.preset as string | undefined;
  const dir = p.model as string | undefined;
  if (!preset === !dir) throw new UsageError('tessera bench plan: give exactly one of --preset NAME or --model DIR (only its config.json is read)');
  checkPathFlags(p, { withPipeline: false }); // --model: no such folder / a pipeline root, as forward/generate say it
  if (preset) {
    const pr = getPreset(preset);
    return { name: preset, cfg: parseConfig(pr.config), latent: pr.latent, ...(pr.textLen !== undefined ? { textLen: pr.textLen } : {}), ...(pr.released ? { released: pr.released } : {}) };
  }
  const file = join(dir!, 'config.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--model ${dir}: cannot read ${file}: ${(e as Error).message}`);
  }
  return { name: dir!, cfg: parseConfig(json as Record<string, unknown>, file) };
}

/**
 * Refuses a latent the model's patchify cannot split, naming the flags that size it: a raw
 * "patchify: … not divisible" from deep inside the memory estimate names no flag.
 * @throws UsageError `tessera COMMAND: latent F×H×W (H×W for a DiT) must be divisible by the patch size pt×ph×pw of NAME: --height 7 is not a multiple of 2`.
 */
export function checkLatentPatch(command: string, name: string, cfg: ModelConfig, l: { frames: number; height: number; width: number }): void {
  const [pt, ph, pw] = patchDims(cfg);
  const bad = ([['frames', l.frames, pt], ['height', l.height, ph], ['width', l.width, pw]] as const).filter(([, v, k]) => v % k !== 0);
  if (bad.length) {
    // DiT latents have no frames: dims and patch as height×width
    const dims = cfg.family === 'dit' ? `${l.height}×${l.width}` : `${l.frames}×${l.height}×${l.width}`;
    const patch = cfg.family === 'dit' ? `${ph}×${pw}` : `${pt}×${ph}×${pw}`;
    throw new UsageError(`tessera ${command}: latent ${dims} must be divisible by the patch size ${patch} of ${name}: ${bad.map(([f, v, k]) => `--${f} ${v} is not a multiple of ${k}`).join(', ')}`);
  }
}

/**
 * A DiT's latent has no frames, so a given --frames would be ignored: refused, the same line from
 * tune, bench plan and bench model (README: flags that would be ignored are refused).
 * @throws UsageError `tessera COMMAND: --frames applies to video models; NAME is a DiT (image latents, no frames): leave out --frames`.
 */
export function checkDitFrames(command: string, name: string, cfg: ModelConfig, frames: number | undefined): void {
  if (cfg.family === 'dit' && frames !== undefined) throw new UsageError(`tessera ${command}: --frames applies to video models; ${name} is a DiT (image latents, no frames): leave out --frames`);
}

const int = (p: Parsed, name: string, lo: number, hi: number): number | undefined => {
  const v = p[name] as number | undefined;
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < lo || v > hi) throw new UsageError(`--${name} must be between ${lo} and ${hi}, got ${v}`);
  return v;
};

/** --max-binding in bytes (a size as --max-memory takes it), else DEFAULT_BINDING. @throws UsageError naming the flag. */
function maxBinding(p: Parsed): number {
  const v = p['max-binding'] as string | undefined;
  if (v === undefined) return DEFAULT_BINDING;
  return sizeFlag(v, '--max-binding');
}

/** Plans one step for f16 and f32 storage; throws UsageError on bad flags. */
export function runPlanBench(p: Parsed): PlanBenchResult {
  const { name, cfg, latent: pl, textLen: pt, released } = configOf(p);
  const given = int(p, 'frames', 1, 4096);
  checkDitFrames('bench plan', name, cfg, given);
  const frames = cfg.family === 'dit' ? 1 : (given ?? pl?.frames ?? 1);
  const height = int(p, 'height', 1, 4096) ?? pl?.height;
  const width = int(p, 'width', 1, 4096) ?? pl?.width;
  if (height === undefined || width === undefined) throw new UsageError('tessera bench plan --model DIR: give --height and --width (and --frames for video models) of the latent');
  const B = int(p, 'batch', 1, 64) ?? 2;
  const L = int(p, 'text-len', 1, 4096) ?? pt ?? 32;
  const latent = cfg.family === 'dit' ? [B, cfg.inChannels, height, width] : [B, cfg.inChannels, frames, height, width];
  const text = cfg.family === 'dit' ? null : [B, L, cfg.family === 'wan' ? cfg.textDim : cfg.captionChannels];
  checkLatentPatch('bench plan', name, cfg, { frames, height, width });
  const binding = maxBinding(p);
  const limits = { maxStorageBufferBindingSize: binding, maxBufferSize: Math.max(binding, MAX_BUFFER) };
  const rows = (['f16', 'f32'] as const).map((dtype): PlanRow => {
    const now: MemoryPlan = planModel(cfg, latent, text ?? undefined, dtype, limits);
    const before: MemoryPlan = planModel(cfg, latent, text ?? undefined, dtype, limits, Infinity, false);
    return {
      dtype,
      dispatches: now.dispatches,
      activations_before: before.scratchByNameBytes + before.persistentBytes,
      activations_after: now.scratchBytes + now.persistentBytes,
      scratch_by_name_unchunked: before.scratchByNameBytes,
      scratch_no_reuse: now.scratchNoReuseBytes,
      scratch_shared: now.scratchBytes,
      scratch_max_live: now.scratchMaxLive,
      persistent: now.persistentBytes,
      shared_buffers: now.slotBytes.length,
      largest_buffer: now.largestBuffer,
      largest_binding: now.largestBinding,
      largest_binding_before: { bytes: before.largestBinding.bytes, name: before.largestBinding.name },
      fits_binding_limit: now.largestBinding.bytes <= binding,
      overflow: now.overflow ? describeOverflow(now.overflow) : null,
    };
  });
  return {
    bench: 'plan',
    model: name,
    family: cfg.family,
    layers: cfg.layers,
    dim: cfg.dim,
    ffn_dim: cfg.ffnDim,
    latent,
    text,
    tokens_per_item: patchTokens(cfg, latent),
    test_latent:
      released && ['frames', 'height', 'width', 'text-len'].every((f) => p[f] === undefined)
        ? { released: released.what, flags: `--frames ${released.frames} --height ${released.height} --width ${released.width} --text-len ${released.textLen}` }
        : null,
    binding_limit: binding,
    weights: { f16: estimateWeights(cfg, 'f16').bytes, f32: estimateWeights(cfg, 'f32').bytes },
    rows,
  };
}

export function printPlanResult(r: PlanBenchResult): void {
  console.log(`${r.model}: ${r.family}, ${plural(r.layers, 'layer')}, dim ${r.dim}, FFN ${r.ffn_dim}; latents [${r.latent.join(',')}]${r.text ? `, text [${r.text.join(',')}]` : ''}: ${r.tokens_per_item} tokens per item, batch ${r.latent[0]}`);
  // a preset's default latent is a CPU-sized test clip: "every binding fits" there says nothing of the real size
  if (r.test_latent) console.log(`planned at the preset's small test latent (its default, for quick CPU runs), not a real clip: ${r.model} at ${r.test_latent.released} is ${r.test_latent.flags}`);
  console.log(`one step planned by a dry run (no GPU, no weights); bindings checked against ${fmtBytes(r.binding_limit)} (${r.binding_limit === DEFAULT_BINDING ? "WebGPU's default maxStorageBufferBindingSize, lavapipe's; --max-binding SIZE plans for another adapter's" : 'the maxStorageBufferBindingSize of --max-binding'})`);
  for (const x of r.rows) {
    console.log(`\n${x.dtype} (weights ${fmtBytes(r.weights[x.dtype])}), ${x.dispatches} dispatches`);
    console.log(`  activations before: ${fmtBytes(x.activations_before)}  (one buffer per scratch name ${fmtBytes(x.scratch_by_name_unchunked)}, FFN over all tokens; + persistent ${fmtBytes(x.persistent)})`);
    console.log(`  activations now:    ${fmtBytes(x.activations_after)}  (shared by liveness ${fmtBytes(x.scratch_shared)} in ${x.shared_buffers} buffers, largest live set ${fmtBytes(x.scratch_max_live)}, one buffer each would be ${fmtBytes(x.scratch_no_reuse)}; + persistent ${fmtBytes(x.persistent)})`);
    console.log(`  largest buffer:     ${fmtBytes(x.largest_buffer.bytes)} (${x.largest_buffer.name})`);
    console.log(`  largest binding:    ${fmtBytes(x.largest_binding.bytes)} (${x.largest_binding.name} at ${x.largest_binding.layer || '(top level)'}); before: ${fmtBytes(x.largest_binding_before.bytes)} (${x.largest_binding_before.name}) — ${x.fits_binding_limit ? 'every binding fits' : `above ${fmtBytes(r.binding_limit)}: not plannable on such an adapter`}`);
    if (x.overflow) console.log(`  not recordable:     ${x.overflow}`);
  }
}
