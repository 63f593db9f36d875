// The profiler page's memory budget and the fit check of a preset run, made before any weight is uploaded or
// any GPU work (session 23's bench review, #1: `?preset=wan-14b` began making 53 GiB of random f32 weights on a
// 23 GiB host, and `latent=64x256x256` ran on for minutes, where `tessera bench model` refuses both at once).
// The checks are the library's (checkWeightsFit, checkRunFits: the transformer's weights, activations and
// workspace against the adapter's limits and the budget; planDecode: the VAE decode's sample shape) plus what
// only the page holds: the decoded clip on the host. No DOM here: tests/profile/profiler-budget.test.ts runs it in Node.
import { checkRunFits, checkWeightsFit, getPreset, LimitError, parseBytes, parseVaeConfig, planDecode, type MemoryEstimate, type MemoryLimits } from '../../src/index.browser.js'; // 'tessera' in your project
import { parseConfig, patchDims, type ModelConfig } from '../../src/model/config.js';
import { fmtBytes } from '../../src/gpu/tensor.js';
import { randomVaeConfig } from './random-vae.js';

/** The share of navigator.deviceMemory the page takes as its budget (as the CLI's 80 % of the host's available memory on a CPU adapter). */
export const DEVICE_MEMORY_SHARE = 0.8;

/** The page's memory budget: `bytes` (none: no budget, the adapter's limits only) and where it comes from, in words. */
export interface Budget {
  bytes?: number;
  source: string;
}

/**
 * The budget: `maxMemory` from the address (a number of bytes or a size such as "4GiB", the library's parseBytes),
 * else DEVICE_MEMORY_SHARE of navigator.deviceMemory (GiB; browsers round it down and report at most 8), else none.
 * @throws InputError `maxMemory: …` for a size that is not one (urlProblems reports it before the page starts).
 */
export function pageBudget(maxMemory: string | null, deviceMemoryGiB: number | undefined): Budget {
  if (maxMemory !== null) return { bytes: parseBytes(maxMemory, 'maxMemory'), source: `maxMemory=${maxMemory} in the address` };
  if (typeof deviceMemoryGiB === 'number' && deviceMemoryGiB > 0) {
    return { bytes: Math.floor(DEVICE_MEMORY_SHARE * deviceMemoryGiB * 2 ** 30), source: `${DEVICE_MEMORY_SHARE * 100} % of navigator.deviceMemory, ${deviceMemoryGiB} GiB (browsers report at most 8); maxMemory=SIZE in the address sets another` };
  }
  return { source: 'none: this browser has no navigator.deviceMemory; maxMemory=SIZE in the address sets one' };
}

/** What a preset run is, as the page's controls give it (main.ts's Job). */
export interface PresetRun {
  preset: string;
  /** Latent frames × height × width (a DiT ignores frames). */
  latent: { frames: number; height: number; width: number };
  /** > 1: classifier-free guidance, the transformer's batch is 2. */
  guidance: number;
}

/**
 * The shapes of a preset run, batch 1: the latents [1, C, F, H, W] (a DiT's [1, C, H, W]) and the text embeddings
 * [1, L, dim] (L the preset's textLen, default 8; none for a DiT). The page's random inputs and the fit check share them.
 */
export function runShapes(c: ModelConfig, j: PresetRun): { latent: number[]; text?: number[] } {
  const lat = j.latent;
  const latent = c.family === 'dit' ? [1, c.inChannels, lat.height, lat.width] : [1, c.inChannels, lat.frames, lat.height, lat.width];
  const textDim = c.family === 'wan' ? c.textDim : c.family === 'latte' ? c.captionChannels : 0;
  return textDim ? { latent, text: [1, getPreset(j.preset).textLen ?? 8, textDim] } : { latent };
}

/** A preset run the page refuses before any upload: `message` is the status line (the figures and what to change). */
export class RunRefused extends Error {
  override name = 'RunRefused';
}

/**
 * Refuses, before anything is uploaded, a preset run that cannot fit: the transformer's weights, then one forward
 * step at the run's batch (2 with guidance > 1), against the adapter's limits and — on a CPU adapter, whose GPU
 * memory is the host's — the budget (checkWeightsFit and checkRunFits, as `tessera bench model` checks); then the
 * decoded clip the page keeps on the host (the VAE's sample and its [0, 1] copy in f32, the 8-bit RGBA frames and
 * the canvas's copies), with the step's GPU bytes on a CPU adapter, against the budget.
 * @returns the step's estimate and the clip's host bytes when it fits.
 * @throws RunRefused with one line: the preset and latents, the library's figures and suggestion (or the clip's, with
 *   how many latent frames fit), the budget and where it comes from, and that nothing was uploaded.
 */
export function checkPresetFits(j: PresetRun, limits: MemoryLimits, budget: Budget, cpu: boolean): { step: MemoryEstimate; clipBytes: number } {
  const c = parseConfig(getPreset(j.preset).config);
  const { latent, text } = runShapes(c, j);
  const B = j.guidance > 1 ? 2 : 1;
  const gpuBudget = cpu ? budget.bytes : undefined;
  const lat = j.latent;
  const what = `${j.preset}, latents ${c.family === 'dit' ? '' : `${lat.frames}×`}${lat.height}×${lat.width}${B === 2 ? ' (CFG batch 2)' : ''}`;
  const budgetWords = budget.bytes === undefined ? `No memory budget (${budget.source}).` : `Budget ${fmtBytes(budget.bytes)}: ${budget.source}${cpu ? '' : ' (it holds the clip on the host; the GPU has the adapter\'s limits only)'}.`;
  const refuse = (line: string): never => {
    throw new RunRefused(`Not run: ${what}: ${line}. ${budgetWords} Nothing was uploaded.`);
  };
  let step: MemoryEstimate;
  try {
    // the page stores f32 and does not offer f16: no `dtype: 'f16'` suggestion
    const fit = { ...(gpuBudget !== undefined ? { maxMemory: gpuBudget } : {}), f16: false, fixedBatch: true };
    checkWeightsFit(c, 'f32', limits, fit);
    step = checkRunFits(c, [B, ...latent.slice(1)], text ? [B, ...text.slice(1)] : undefined, 'f32', limits, fit);
  } catch (e) {
    if (e instanceof LimitError) refuse(pageTerms(e.message));
    throw e;
  }
  // the decode of the batch-1 latents the loop returns (its LimitError: an attention frame or sample too large)
  const vae = parseVaeConfig(randomVaeConfig(c.family, c.inChannels));
  const clip = (frames: number) => {
    const shape = c.family === 'dit' ? latent : [...latent.slice(0, 2), frames, ...latent.slice(3)];
    const out = planDecode(vae, shape, 'f32', limits.maxStorageBufferBindingSize).outShape;
    const values = out.reduce((a, b) => a * b, 1);
    // f32 sample + its postprocessed f32 copy; RGBA bytes (4 per pixel, 3 values a pixel) for the frames + the canvas's ImageData
    return { out, f32: 2 * 4 * values, rgba: 2 * (values / 3) * 4, bytes: 2 * 4 * values + 2 * (values / 3) * 4 };
  };
  let mine: ReturnType<typeof clip>;
  try {
    mine = clip(lat.frames);
  } catch (e) {
    if (e instanceof LimitError) refuse(e.message);
    throw e;
  }
  const gpuPart = cpu ? step!.total : 0;
  if (budget.bytes === undefined || mine.bytes + gpuPart <= budget.bytes) return { step: step!, clipBytes: mine.bytes };
  // fewer latent frames (in whole patches): the step's bytes at these frames bound theirs from above
  const pt = c.family === 'dit' ? 0 : patchDims(c)[0];
  let fit = 0;
  for (let f = pt; pt && f < lat.frames; f += pt) if (clip(f).bytes + gpuPart <= budget.bytes) fit = f;
  const way = fit ? `use at most ${fit} latent frame${fit === 1 ? '' : 's'} at this height×width or smaller latents` : `use a smaller latent height×width${pt ? ' and fewer frames' : ''}`;
  return refuse(
    `the decoded clip, sample [${mine.out.join(',')}], needs ${fmtBytes(mine.bytes)} on the host (the sample and its [0, 1] copy in f32 ${fmtBytes(mine.f32)}, 8-bit RGBA frames and their canvas copies ${fmtBytes(mine.rgba)})` +
      `${cpu ? ` + the step's ${fmtBytes(gpuPart)} on the GPU (a CPU adapter: the same memory)` : ''}, above the budget of ${fmtBytes(budget.bytes)}: ${way}, or a larger maxMemory budget (${mine.bytes + gpuPart} bytes or more)`,
  );
}

/** A library refusal in the page's words: the page's choices are presets, not models. */
const pageTerms = (msg: string): string => msg.replace(/\ba smaller model\b/g, 'a smaller preset');
