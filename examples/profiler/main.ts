// The interactive shader-level profiler: type a prompt and generate a clip with the trained
// tessera-shapes pipeline (models/tessera-shapes, served with the page: UMT5 text encoder →
// WanTransformer3DModel → AutoencoderKLWan) on navigator.gpu, play it (canvas, MP4 via WebCodecs),
// show the per-kernel timeline of all three stages — or run a preset architecture with random
// weights — and edit any kernel's WGSL live: recompiled, the clip re-generated and re-timed.
//
// Page state for people and tests: <body data-state="loading|running|done|error|stopped">, and
// `window.tessera` (see PageInfo). URL parameters: prompt (the default run is the prompt's), preset
// (a preset run instead), latent (e.g. 4x16x16), steps, guidance, seed, repeats, timing=wall
// (ignore timestamp-query; the page's wall-clock box, ticked), tune=off|cached|auto (the autotuner), autorun=0,
// model=URL (the prompt runs' model folder), maxMemory=SIZE (the memory budget a preset run is checked against
// before anything is uploaded, budget.ts; default 80 % of navigator.deviceMemory); any other name stops the page (url-params.ts).
import {
  acquireGpu,
  describeAdapter,
  encodeGif,
  encodeMp4WebCodecs,
  postprocessSample,
  videoToFrames,
  generate,
  getPreset,
  loadRandomModel,
  presetNames,
  type DiffusionModel,
  type ForwardInputs,
  type Gpu,
  type TensorData,
  type Vae,
  loadPipeline,
  httpFolder,
  type Pipeline,
  setTuneMode,
  type TuneMode,
  watchKernels,
  mapFolder,
} from '../../src/index.browser.js'; // 'tessera' in your project
import { EMBEDDED_DEFAULTS, vocabularyNote } from '../../src/pipeline/embedded.js';
import { SEED_MAX, seedProblem } from '../../src/random.js';
import { parseConfig } from '../../src/model/config.js';
import { judgeVideo, parseShapesPrompt, verdictWords, type Verdict } from '../../src/eval/shapes-judge.js';
import { loadRandomVae, noise } from './random-vae.js';
import { REPEATS_DEFAULT, urlProblems } from './url-params.js';
import { ClipLoop } from './clip-loop.js';
import { checkPresetFits, pageBudget, runShapes, RunRefused, type Budget } from './budget.js';
import { throwIfAborted } from '../../src/model/options.js';
import { EditChecker, kernelFile, parseVariantKey, wrongText, type EditCheck, type Retime } from './edit-check.js';
import { retimeRefusal, retimeSummary, retimeText, spreadVerdict, type DispatchTiming, type RetimeSummary, type Timed } from './retime.js';
import { folderWords } from './folder-words.js';
import {
  chromeTrace,
  compileCheck,
  invalidateKernel,
  kernelRegistry,
  kernelSource,
  kernelTable,
  median,
  profileDecode,
  profilePlan,
  profilePipeline,
  wallClockRun,
  joinStages,
  stageRuns,
  setKernelSource,
  variantSource,
  type Plan,
  type KernelSpec,
  type ProfileRun,
  type ProfiledDispatch,
  type StageProfile,
} from '../../src/profiler.js'; // 'tessera/profiler'

type VariantSel = { flags: Record<string, boolean>; overrides: Record<string, number> };

/** What the page exposes on `window.tessera` (read by tests/integration/browser-profiler.test.ts). */
export interface PageInfo {
  state: string;
  adapter: string | null;
  features: string[];
  timing: string | null;
  /** Dispatches in the profiled plan, and bars drawn for them. */
  dispatches: number;
  bars: number;
  /** Completed profile runs (1 after load; +1 per successful recompile). */
  runs: number;
  /** FNV-1a hash of all frame pixels of the current clip. */
  frameHash: string;
  frames: number;
  /** Frames come from the VAE decoder (not the latent colour map), at this size. */
  decoded: boolean;
  frameSize: [number, number] | null;
  /** The MP4 made in the page (WebCodecs + mediabunny), or why there is none. */
  mp4: { codec: string; bytes: number; width: number; height: number; frames: number; fps: number } | null;
  mp4Error: string | null;
  /** The frame (0-based) the frames canvas shows now: the MP4 player's while it has this clip (they show one clip in step). */
  canvasFrame: number;
  /** Whether the canvas follows the player's frames (false before the MP4 is made and where there is none: it animates on its own). */
  canvasFollows: boolean;
  /** The profiled VAE decode: dispatches timed and their sum (ms; wall clock without timestamps). */
  decode: { dispatches: number; totalMs: number; timing: string } | null;
  coarseTimestamps: boolean;
  lastCompile: {
    kernel: string;
    ok: boolean;
    errors: string[];
    /** 1-based lines of the edited file the errors point at (from the preprocessor's line map). */
    errorLines?: number[];
    /** `override` defaults edited in the source that every dispatch of the kernel sets itself (the edit changed nothing that runs). */
    ignoredOverrides?: string[];
    /** This kernel's time per step before and after the recompile: median (sum of dispatch medians) and the range over repeats. */
    before?: KernelTime | null;
    after?: KernelTime | null;
    /** A compiled edit checked against the shipped kernel (each dispatch of it in the run, on the same inputs; null: the shipped source, nothing to check). */
    check?: EditCheck | null;
    /** Set when the edited kernel's output is out of tolerance (or could not be checked): how far off, and that no time is reported (before/after are null then). */
    wrong?: string;
  } | null;
  /** What the last run was: the prompt through the trained pipeline, or a preset with random weights. */
  mode: 'prompt' | 'preset' | null;
  /** The prompt of the last prompt run. */
  prompt: string | null;
  /** The note shown for a prompt outside the embedded model's vocabulary (null when inside it). */
  vocabNote: string | null;
  /**
   * Prompt runs: each stage's wall time (ms), its profiled dispatches and the bars drawn for it in the timeline;
   * the transformer's also each denoising step's wall time (ms; its profiled dispatches are one step replayed).
   */
  stages: { stage: string; name: string; wallMs: number; dispatches: number; bars: number; stepWallMs?: number[] }[];
  /** What the note above the per-kernel table says (null: hidden): why a prompt run's table has no per-dispatch times, or what its transformer rows cover. */
  tableNote: string | null;
  /**
   * Prompt runs: the choices of the "kernels per stage and denoising step" table, in order (the text encoder, each
   * denoising step of the loop timed as it ran, the VAE decode): their dispatches, how many have a time, their
   * summed time (ms) and how they were timed. Empty after a preset run.
   */
  stepKernels: { stage: string; label: string; dispatches: number; timed: number; totalMs: number; timing: string }[];
  /** What the line in place of that table says when the chosen stage has no per-dispatch times (null: the table is shown). */
  stepKernelsNote: string | null;
  /** Prompt runs of "a {colour} {shape} moving {direction}": what issue 12's judge reads in the clip (its verdict, as judgeVideo gives it). */
  judge: (Verdict & { pass: boolean }) | null;
  /** Visible time range of the timeline (ms; zoomed with the wheel, panned by dragging, reset by double-click). */
  timelineView: [number, number] | null;
  /**
   * The settings of the last completed run, read from the fields once when its button was pressed; a
   * kernel-edit re-run reuses them (not what the fields hold then), so before → after time the same work.
   */
  runSettings: RunSettings | null;
  /** Kernels with unsaved editor text (not compiled yet; kept while other kernels are opened). */
  drafts: string[];
  /**
   * The kernel work of the last run by stage (prompt runs: text_encoder, transformer, vae; preset runs: generate,
   * profile, decode): pipelines compiled and kernels autotuned, counted from watchKernels' events.
   */
  kernelWork: Record<string, KernelWork>;
  /** The last thing the progress line under the status said during the last run (compiling / autotuning / loading), or null. */
  lastProgress: string | null;
  /** The model folder of the prompt runs' pipeline, in words (null: none loaded yet). */
  model: string | null;
  /** The one line shown when a model folder could not be loaded (null: none). */
  modelError: string | null;
  /** The inline message for invalid latents/steps/seed/guidance (the run was not started), or null. */
  inputError: string | null;
  /**
   * The last "Re-time only" of a kernel edit: the run whose dispatches were replayed (its clip not re-rendered),
   * how they were timed, and what it found (summary), or why it was refused or found the edit WRONG.
   */
  lastRetime: {
    kernel: string;
    run: number;
    refused?: string;
    wrong?: string;
    timing?: 'gpu-timestamps' | 'wall-clock';
    summary?: RetimeSummary;
    check?: RunEditCheck;
    /** Dispatches of the kernel whose table rows now hold the edit's replayed times. */
    rowsUpdated?: number;
  } | null;
  error: string | null;
  /** The memory budget preset runs are checked against before any upload (budget.ts): bytes (null: none) and where it comes from. */
  budget: { bytes: number | null; source: string } | null;
  /** Preset models made with random weights so far (a refused run makes none). */
  uploads: number;
  /** The last action the Stop button stopped: the status line it left (null: none stopped). */
  stopped: string | null;
}

const info: PageInfo = { budget: null, uploads: 0, stopped: null, model: null, modelError: null, kernelWork: {}, lastProgress: null, stepKernels: [], stepKernelsNote: null, tableNote: null, drafts: [], runSettings: null, mode: null, prompt: null, vocabNote: null, stages: [], judge: null, state: 'loading', adapter: null, features: [], timing: null, dispatches: 0, bars: 0, runs: 0, frameHash: '', frames: 0, decoded: false, frameSize: null, mp4: null, mp4Error: null, canvasFrame: 0, canvasFollows: false, decode: null, coarseTimestamps: false, lastCompile: null, error: null, timelineView: null, inputError: null, lastRetime: null };
(globalThis as unknown as { tessera: PageInfo }).tessera = info;

const $ = <E extends HTMLElement = HTMLElement>(id: string): E => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page is missing #${id}`);
  return e as E;
};

/** Pipelines compiled and kernels autotuned in one stage of a run (PageInfo.kernelWork). */
export interface KernelWork {
  compiled: number;
  tuned: number;
}
/** The stage the kernel work now reported belongs to (set as a run goes on). */
let workStage = '';

/** The progress line under the status (kernel compilation, autotuning, loading); '' clears it. */
function showProgress(text: string): void {
  $('progress').textContent = text;
  $('progress').hidden = !text;
  if (text) info.lastProgress = text;
}

/**
 * Counts the kernel work of the run about to start (PageInfo.kernelWork, by `workStage`) and shows it as it
 * happens on the progress line: "compiling kernel pipelines 12/25", "autotuning gemm …: candidate 3/8".
 * Returns the function that stops it (and clears the line).
 */
function watchRun(stage: string): () => void {
  info.kernelWork = {};
  info.lastProgress = null;
  workStage = stage;
  const unwatch = watchKernels(gpu!, (e) => {
    const w = (info.kernelWork[workStage] ??= { compiled: 0, tuned: 0 });
    if (e.type === 'compile') {
      if (e.done === e.total) w.compiled += e.total;
      showProgress(`compiling kernel pipelines ${e.done}/${e.total} (${workStage.replace('_', ' ')})`);
    } else {
      if (e.done === e.total) w.tuned++;
      showProgress(`autotuning ${e.family} (${e.bucket}): candidate ${e.done}/${e.total} (${workStage.replace('_', ' ')}; tune=off in the address skips it)`);
    }
    // the line says what is happening now: once a batch is done it is cleared (it said "candidate 2/2" through
    // the next 19 denoising steps), as it is at each stage and step (nextPhase)
    if (e.done === e.total) showProgress('');
  });
  return () => {
    unwatch();
    showProgress('');
  };
}

/**
 * The status line at a new stage or denoising step: `text`, and the progress line cleared (the kernel work it
 * showed belonged to the stage or step before; work in this one writes it again).
 */
function nextPhase(text: string): void {
  if (!stopper?.signal.aborted) $('status').textContent = text;
  showProgress('');
}

/** The kernel work a stage did, in words (the first step's time includes it): '' when none. */
function workWords(w: KernelWork | undefined): string {
  if (!w || (!w.compiled && !w.tuned)) return '';
  return [w.compiled ? `compiling ${w.compiled} kernel pipeline${w.compiled === 1 ? '' : 's'}` : '', w.tuned ? `autotuning ${w.tuned} kernel${w.tuned === 1 ? '' : 's'}` : ''].filter(Boolean).join(' and ');
}

/** A kernel's time per step from one run: the median (sum of its dispatches' medians) and the range over repeats (sums of per-dispatch minima and maxima). */
export type KernelTime = Timed;
function kernelTime(r: ProfileRun | null, file: string): KernelTime | null {
  const ds = (r?.dispatches ?? []).filter((d) => kernelFile(d.kernel) === file && d.samples.length);
  if (!r || !ds.length) return null;
  const sum = (f: (d: (typeof ds)[number]) => number) => ds.reduce((a, d) => a + f(d), 0);
  // a prompt run's joined profile says repeats 1: its dispatches carry the samples of their stage's repeats
  return { ms: sum((d) => d.ms ?? 0), lo: sum((d) => Math.min(...d.samples)), hi: sum((d) => Math.max(...d.samples)), repeats: Math.max(r.repeats, ...ds.map((d) => d.samples.length)) };
}
const timeStr = (t: KernelTime) => `${t.ms.toFixed(3)} ms (${t.lo.toFixed(3)}–${t.hi.toFixed(3)} over ${t.repeats} repeat${t.repeats === 1 ? '' : 's'})`;
/**
 * Before → after, and whether the ranges overlap (then the change is within the run-to-run spread). With one
 * timed repeat there is no spread: no verdict. `per`: what the time covers (a preset's step, a prompt run's stages).
 */
function beforeAfter(name: string, b: KernelTime | null, a: KernelTime | null, per = 'per step'): string {
  if (!b || !a) return `${name}: ${a ? timeStr(a) : 'untimed'} ${per} now`;
  return `${name} ${per}: before ${timeStr(b)} → after ${timeStr(a)}; ${spreadVerdict(b, a)}`;
}

/** `override NAME: type = value;` defaults of a WGSL source. */
function overrideDefaults(src: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const x of src.matchAll(/^\s*override\s+([A-Za-z_]\w*)\s*(?::\s*\w+)?\s*=\s*([^;]+);/gm)) m.set(x[1]!, x[2]!.trim());
  return m;
}

/** Click a header to sort by that column (again: the other way); rows keep their click handlers. */
function sortTable(table: HTMLTableElement): void {
  const ths = Array.from(table.tHead?.rows[0]?.cells ?? []);
  if (table.dataset.sortable !== '1') {
    table.dataset.sortable = '1';
    ths.forEach((th, i) => {
      th.style.cursor = 'pointer';
      if (!th.title) th.title = 'sort by this column (click, or Enter)'; // % step / % total keep the title saying what they are a share of
      th.tabIndex = 0;
      th.setAttribute('aria-sort', 'none');
      th.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          th.click();
        }
      });
      th.addEventListener('click', () => {
        const same = table.dataset.sortCol === String(i);
        table.dataset.sortCol = String(i);
        table.dataset.sortDir = same && table.dataset.sortDir === 'desc' ? 'asc' : same ? 'desc' : i === 0 ? 'asc' : 'desc';
        sortTable(table);
      });
    });
  }
  const col = table.dataset.sortCol;
  if (col === undefined) return; // the report's order (total time, descending) until a header is clicked
  const c = Number(col);
  const dir = table.dataset.sortDir === 'asc' ? 1 : -1;
  const key = (tr: HTMLTableRowElement): number | string => {
    const t = tr.cells[c]?.textContent ?? '';
    const v = parseFloat(t.replace('%', ''));
    return c === 0 ? t : Number.isFinite(v) ? v : -Infinity;
  };
  const body = table.tBodies[0]!;
  const rows = Array.from(body.rows).sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return (typeof x === 'string' ? x.localeCompare(String(y)) : x - (y as number)) * dir;
  });
  body.append(...rows);
  ths.forEach((th, i) => th.setAttribute('aria-sort', i === c ? (dir === 1 ? 'ascending' : 'descending') : 'none'));
}

/** The width (px) of the timeline drawn last: a resize redraws only when the drawing's width would change. */
let drawnWidth = 0;
/** The width (px) the timeline is drawn at for its box now: the box's, at least 600 (wider scrolls in the box). */
const timelineWidth = (): number => Math.max($('timeline').clientWidth - 2, 600);
/** The drawn timeline's view (ms) and how to change it (drawTimeline sets it): what its keys act on. */
let timelineNav: { v0: number; v1: number; span: number; setView: (a: number, b: number) => void } | null = null;

/** A key pressed on the focused timeline (see initControls): true when it was one of its keys (the view changed or stayed at an end). */
function timelineKey(key: string): boolean {
  const n = timelineNav;
  if (!n) return false;
  const { v0, v1, span, setView } = n;
  const w = v1 - v0;
  const mid = (v0 + v1) / 2;
  if (key === '+' || key === '=') setView(mid - w * 0.4, mid + w * 0.4);
  else if (key === '-' || key === '_') setView(mid - w * 0.625, mid + w * 0.625);
  else if (key === 'ArrowLeft') setView(v0 - w * 0.1, v1 - w * 0.1);
  else if (key === 'ArrowRight') setView(v0 + w * 0.1, v1 + w * 0.1);
  else if (key === 'Home') setView(0, w);
  else if (key === 'End') setView(span - w, span);
  else if (key === '0') setView(0, span);
  else return false;
  return true;
}

/** Bars drawn per stage in the last timeline (prompt runs). */
let stageBars: number[] = [];
const STAGE_COLORS = ['#9467bd', '#1f77b4', '#2ca02c'];
/** The narrowest a stage's box is drawn in the timeline (px): room for a few letters of its label and for the pointer. */
const MIN_STAGE_PX = 44;

const FAMILY_COLORS: Record<string, string> = {
  gemm: '#4e79a7',
  attention: '#e15759',
  norm: '#59a14f',
  adaln: '#f28e2b',
  elementwise: '#76b7b2',
  rope: '#edc948',
  patchify: '#b07aa1',
  timestep: '#ff9da7',
  gather: '#9c755f',
  strided_copy: '#8c8c8c',
};
function familyColor(f: string): string {
  if (FAMILY_COLORS[f]) return FAMILY_COLORS[f]!;
  let h = 0;
  for (const c of f) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `hsl(${h % 360} 55% 55%)`;
}

const params = new URLSearchParams(location.search);
/**
 * Defaults: on a CPU adapter (SwiftShader, lavapipe) a few seconds' worth; on a real GPU the
 * preset's own latent size and more steps.
 */
const CPU_LATENT: Record<string, { frames: number; height: number; width: number }> = {
  'wan-tiny': { frames: 4, height: 8, width: 8 },
  'dit-tiny': { frames: 1, height: 16, width: 16 },
};

/** The largest latents the page runs (far past what a CPU adapter finishes; a guard against typos). */
const LATENT_MAX = { frames: 64, height: 256, width: 256 } as const;

/**
 * What the preset's transformer takes as latents: frames × height × width each a multiple of its
 * patch size (the model's forward refuses others), and whether frames are used (DiT: images).
 */
function latentRules(preset: string): { patch: [number, number, number]; frames: boolean; patchText: string } {
  const c = parseConfig(getPreset(preset).config);
  const patch: [number, number, number] = c.family === 'wan' ? c.patch : [1, c.patch, c.patch];
  return { patch, frames: c.family !== 'dit', patchText: c.family === 'wan' ? `[${patch.join(', ')}]` : String(c.patch) };
}

/** The latent sizes the preset takes, in words (beside the field, and in its title). */
function latentHint(preset: string): string {
  const { patch, frames, patchText } = latentRules(preset);
  const [pt, ph, pw] = patch;
  const f = frames ? `frames 1–${LATENT_MAX.frames}${pt > 1 ? ` in multiples of ${pt}` : ''}` : `frames ignored (an image model; 1–${LATENT_MAX.frames})`;
  const hw = ph === pw ? `height and width ${ph}–${LATENT_MAX.height} in multiples of ${ph}` : `height ${ph}–${LATENT_MAX.height} in multiples of ${ph}, width ${pw}–${LATENT_MAX.width} in multiples of ${pw}`;
  return `${preset} takes ${f}, ${hw} (patch_size ${patchText})`;
}

/**
 * The latents field (`4x16x16`: frames × height × width) for `preset`, checked before anything runs:
 * three whole numbers, each within this page's limits (LATENT_MAX) and a multiple of the preset's patch
 * size. Problems are added to `problems` (and the field marked); returns null then.
 */
function readLatent(preset: string, problems: string[]): { frames: number; height: number; width: number } | null {
  const el = $('latent') as HTMLInputElement;
  const text = el.value.trim();
  const before = problems.length;
  const m = /^(\d+)\s*[x×]\s*(\d+)\s*[x×]\s*(\d+)$/.exec(text);
  let out: { frames: number; height: number; width: number } | null = null;
  if (!m) problems.push(`latents: expected frames×height×width as three whole numbers, e.g. 4x16x16, got "${text}"`);
  else {
    const sizes = { frames: Number(m[1]), height: Number(m[2]), width: Number(m[3]) };
    const { patch, patchText } = latentRules(preset);
    (['frames', 'height', 'width'] as const).forEach((dim, i) => {
      const v = sizes[dim];
      const p = patch[i]!;
      if (v > LATENT_MAX[dim]) problems.push(`latents: ${dim} ${m[i + 1]} is too large: this page takes ${dim} up to ${LATENT_MAX[dim]}`);
      else if (v < p) problems.push(`latents: ${dim} ${v} is too small: at least ${p}`);
      else if (v % p) problems.push(`latents: ${dim} ${v} is not a multiple of ${p} (${preset}'s patch_size ${patchText} must divide frames × height × width)`);
    });
    out = sizes;
  }
  const bad = problems.length > before;
  el.setAttribute('aria-invalid', String(bad));
  return bad ? null : out;
}
const latentStr = (l: { frames: number; height: number; width: number }) => `${l.frames}x${l.height}x${l.width}`;
const DEFAULT_PRESET = 'wan-tiny';
/** Timed repeats of the profiled step (median reported): `?repeats`, when it is a whole number in 1..REPEATS_MAX (urlProblems refuses others). */
const REPEATS = Number(params.get('repeats') ?? REPEATS_DEFAULT);

/** A URL parameter the page cannot run with (urlProblems); the page starts nothing. */
class UrlParameterError extends Error {
  override name = 'UrlParameterError';
}

let gpu: Gpu | null = null;
let model: DiffusionModel | null = null;
let modelKey = '';
let vae: Vae | null = null;
let mp4Url = '';
let decodeRun: ProfileRun | null = null;
/** The last run's latents (what its decode decoded) and, prompt runs, the profiled step's timestep: a kernel edit is checked on them. */
let lastLatents: TensorData | null = null;
let lastTimestep = 500;

/**
 * The work of `r`'s dispatches as the ops record it (the FLOP and byte counts `tessera bench` reports as
 * flops and bytes): MFLOP (1e6 FLOP) and MiB (2^20 bytes read and written: the unit of the page's memory figures).
 */
function workText(r: ProfileRun): string {
  const flops = r.dispatches.reduce((a, d) => a + d.flops, 0);
  const bytes = r.dispatches.reduce((a, d) => a + d.bytes, 0);
  return `${(flops / 1e6).toFixed(2)} MFLOP, ${(bytes / 2 ** 20).toFixed(2)} MiB moved`;
}

/** A FLOP count in the unit that shows it (a tiny kernel's 96 FLOP is not "0.00 MFLOP"). */
function flopText(n: number): string {
  const [div, unit] = n >= 1e9 ? [1e9, 'GFLOP'] : n >= 1e6 ? [1e6, 'MFLOP'] : n >= 1e3 ? [1e3, 'kFLOP'] : [1, 'FLOP'];
  return `${div === 1 ? String(n) : (n / div).toFixed(2)} ${unit}`;
}

/** A byte count in KiB or MiB (the page's one unit family for memory and traffic). */
const byteText = (n: number): string => (n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`);

/** The VAE table's caption: dispatch count, work, summed time (GPU timestamps or wall), peak memory. */
const vaeCaption = (cls: string, r: ProfileRun): string =>
  `${cls}: ${r.dispatches.length} dispatches (${workText(r)}), ${r.timing === 'gpu-timestamps' ? `${sumMedians(r).toFixed(3)} ms GPU (${medianWords(r)}: the table's total, 100 % of "% decode")` : `${r.totalMs.toFixed(3)} ms wall`}, peak ${(r.peakBytes / 2 ** 20).toFixed(1)} MiB — ${r.timing}`;
let plan: Plan | null = null;
let run: ProfileRun | null = null;
/** The trained pipeline (prompt runs), loaded on first use. */
let pipe: Pipeline | null = null;
let mode: 'prompt' | 'preset' = 'prompt';
/** Prompt runs: the dispatch range of each stage in `run`. */
let stageRanges: { stage: string; name: string; from: number; to: number }[] | null = null;
let selected = '';
/**
 * Whether the user has opened a kernel (the list, a table row, a timeline bar) or typed in the editor: until then the
 * editor shows the kernel list's first entry, which each run reorders (most dispatched first).
 */
let kernelPicked = false;
/**
 * The per-kernel table and the "kernels per stage and denoising step" table (~90 dispatches a step) show their
 * TOP_ROWS slowest rows until their "show all" button is pressed; `allRows` holds which tables show all.
 */
const TOP_ROWS = 12;
const allRows = new Set<string>();
/** The frames canvas's animation and the MP4 player: they play for a while after a new clip or a look at them, then stop (clip-loop.ts). */
let clipLoop: ClipLoop | undefined;
const theClipLoop = (): ClipLoop => (clipLoop ??= new ClipLoop($('clip') as HTMLVideoElement));
let traceUrl = '';
/**
 * The clip on the frames canvas: `draw(i)` shows its frame i of `n`. `token` changes with each new clip, ending the
 * previous clip's player callbacks (followPlayer).
 */
const canvasClip = { draw: (_i: number): void => undefined, n: 0, token: 0 };

/**
 * The page's Chrome trace: each dispatch's median laid end to end (the figure of the tables and of the timeline's
 * packed bars; `args.shown` says so), a wall-clock run's one event named by its stage, shown in ms (the values are µs).
 */
const TRACE_OPTIONS = (r: ProfileRun) => ({ process: `GPU: ${r.adapter}`, layout: 'median', wallClockEvent: 'track', displayTimeUnit: 'ms' }) as const;

/** The summed per-dispatch medians of `r` (ms): the total of its kernel table, and what its "%" column is a share of. */
const sumMedians = (r: ProfileRun, from = 0, to = r.dispatches.length): number => r.dispatches.slice(from, to).reduce((a, d) => a + (d.ms ?? 0), 0);

/** How `r`'s per-dispatch times were reduced over its repeats, in words (the captions). */
function medianWords(r: ProfileRun): string {
  const n = Math.max(r.repeats, ...r.dispatches.map((d) => d.samples.length));
  return n > 1 ? `the sum of each dispatch's median over ${n} repeats` : 'the sum of its dispatches in one timed run';
}

/** Offers `trace` (a Chrome trace) as the page's download link, releasing the previous one's object URL. */
function publishTrace(trace: unknown): void {
  if (traceUrl) URL.revokeObjectURL(traceUrl);
  traceUrl = URL.createObjectURL(new Blob([JSON.stringify(trace)], { type: 'application/json' }));
  const a = $('trace') as HTMLAnchorElement;
  a.href = traceUrl;
  a.hidden = false;
}
let gifUrl = '';
/** Frames per second of the clip shown (the arrow keys on the player step one frame). */
let clipFps = 16;
const originals = new Map<string, string>();
/** Kernels whose edit in use was found WRONG by the edit check (marked ✗ in the list until recompiled right or reverted). */
const wrongEdits = new Set<string>();
/** Unsaved editor text per kernel (differs from the source in use): kept when another kernel is opened. */
const drafts = new Map<string, string>();

/** The page's state and status line; `bad`: the line reports a failure (a compile error, a wrong result), shown in red, not in the "done" green. */
function setState(s: string, msg?: string, bad = false): void {
  info.state = s;
  document.body.dataset.state = s;
  $('status').classList.toggle('bad', bad);
  // while a run is in progress the clip, timeline and tables on the page are the previous run's (dimmed by style.css)
  document.querySelector('main')?.setAttribute('aria-busy', String(s === 'running'));
  // once Stop is pressed the line says "stopping…" until the action has stopped, not the phases it passes meanwhile
  if (msg !== undefined && !(s === 'running' && stopper?.signal.aborted)) $('status').textContent = msg;
}

function showError(e: unknown): void {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  info.error = msg;
  const box = $('error');
  box.textContent = msg;
  box.hidden = false;
  setState('error', 'failed — see the message below');
  console.error(e);
}

const sleepFrame = () => new Promise((r) => requestAnimationFrame(() => r(null)));

// ---------------------------------------------------------------- controls

/** The most denoising steps the page runs (as `tessera demo --steps`). */
const STEPS_MAX = 200;

/**
 * The number typed in input #id, checked (never rounded or clamped: a value outside the range is
 * reported, not changed). `kind` int: a whole number in lo..hi; seed: the library's seed check
 * (seedProblem: an integer in 0..SEED_MAX = 2^32−1, pass those as lo, hi); number: any number in lo..hi. A problem is added to `problems`, and the field marked.
 */
function readField(id: string, label: string, kind: 'int' | 'seed' | 'number', lo: number, hi: number, problems: string[]): number {
  const el = $(id) as HTMLInputElement;
  const text = el.value.trim();
  const v = Number(text);
  let problem: string | undefined;
  // an <input type=number> holding text that is not a number reads as '' (validity.badInput)
  if (text === '') problem = el.validity?.badInput ? 'expected a number' : 'empty';
  else if (kind === 'seed') problem = seedProblem(v);
  else if (kind === 'int' && !(Number.isInteger(v) && v >= lo && v <= hi)) problem = `a whole number from ${lo} to ${hi}, got ${text}`;
  else if (kind === 'number' && !(Number.isFinite(v) && v >= lo && v <= hi)) problem = `a number from ${lo} to ${hi}, got ${text}`;
  el.setAttribute('aria-invalid', String(problem !== undefined));
  if (problem !== undefined) problems.push(`${label}: ${problem}`);
  return v;
}

/**
 * Shows `problems` as the inline message under the controls `box` (prompt|preset) and says the run
 * did not start; clears both boxes' messages when there are none. Returns true when the inputs are valid.
 */
function inputsValid(box: 'prompt' | 'preset', problems: string[]): boolean {
  for (const b of ['prompt', 'preset']) {
    const el = $(`${b}-input-error`);
    el.textContent = b === box && problems.length ? `Not run: ${problems.join('; ')}.` : '';
    el.hidden = !el.textContent;
  }
  info.inputError = problems.length ? $(`${box}-input-error`).textContent : null;
  if (problems.length) setState('done', 'not run: fix the value marked in red', true);
  return problems.length === 0;
}

/**
 * Writes a started run's settings into the address (history.replaceState; null removes a parameter), so
 * a reload or a copied link starts with (and, without autorun=0, runs) that run's settings: the prompt or preset, its fields and the timing box. The
 * other parameters (repeats, tune, autorun) stay as they are.
 */
function rememberRun(settings: Record<string, string | null>): void {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(settings)) {
    if (v === null) q.delete(k);
    else q.set(k, v);
  }
  history.replaceState(history.state, '', `${location.pathname}?${q.toString()}${location.hash}`);
}

/** The preset box's inputs, or null (inline message shown) when the latents, steps, guidance or seed are invalid. */
function readControls(): Job | null {
  const preset = ($('preset') as HTMLSelectElement).value;
  const problems: string[] = [];
  const latent = readLatent(preset, problems);
  const steps = readField('steps', 'steps', 'int', 1, STEPS_MAX, problems);
  const guidance = readField('guidance', 'guidance', 'number', 1, 20, problems);
  const seed = readField('seed', 'seed', 'seed', 0, SEED_MAX, problems);
  return inputsValid('preset', problems) && latent ? { preset, latent, steps, guidance, seed, wallClock: wallClockTiming() } : null;
}

/** The prompt box's steps and seed, checked like readControls' (problems listed, nothing changed). */
function readPromptInputs(problems: string[]): { steps: number; seed: number } {
  return { steps: readField('prompt-steps', 'steps', 'int', 1, STEPS_MAX, problems), seed: readField('prompt-seed', 'seed', 'seed', 0, SEED_MAX, problems) };
}

function initControls(cpu: boolean): void {
  const sel = $('preset') as HTMLSelectElement;
  for (const name of presetNames()) {
    const o = document.createElement('option');
    o.value = name;
    o.textContent = name + (cpu && !CPU_LATENT[name] ? ' (slow on this CPU adapter)' : '');
    o.title = getPreset(name).about;
    sel.append(o);
  }
  sel.value = params.get('preset') ?? DEFAULT_PRESET;
  const defaultLatent = () => latentStr((cpu && CPU_LATENT[sel.value]) || getPreset(sel.value).latent);
  ($('latent') as HTMLInputElement).value = params.get('latent') ?? defaultLatent();
  ($('steps') as HTMLInputElement).value = params.get('steps') ?? (cpu ? '3' : '8');
  const showHint = () => {
    $('latent-hint').textContent = latentHint(sel.value);
    $('latent').title = `latent frames × height × width: ${latentHint(sel.value)}`;
  };
  showHint();
  sel.addEventListener('change', () => {
    ($('latent') as HTMLInputElement).value = defaultLatent();
    showHint();
  });
  for (const id of ['guidance', 'seed']) if (params.has(id)) ($(id) as HTMLInputElement).value = params.get(id)!;
  // the clip's player is one tab stop (the browser's own controls were four: play, the timeline, mute, the menu):
  // click, Space or Enter pause and play it; the arrows step a frame while it is paused (it is silent: nothing to mute)
  const clip = $('clip') as HTMLVideoElement;
  const toggle = () => void (clip.paused ? clip.play().catch(() => undefined) : clip.pause());
  // the clip plays on while the user points at or tabs into the frames, or comes back to the tab; it stops when the tab is hidden
  const wake = () => theClipLoop().wake();
  for (const ev of ['pointermove', 'focusin']) $('frames-section').addEventListener(ev, wake);
  document.addEventListener('visibilitychange', () => (document.hidden ? theClipLoop().stop() : wake()));
  clip.addEventListener('click', toggle);
  clip.addEventListener('keydown', (ev) => {
    const k = (ev as KeyboardEvent).key;
    if (k === ' ' || k === 'Enter') toggle();
    else if (k === 'ArrowLeft' || k === 'ArrowRight') {
      clip.pause();
      clip.currentTime = Math.max(0, clip.currentTime + (k === 'ArrowLeft' ? -1 : 1) / clipFps);
    } else return;
    ev.preventDefault();
  });
  $('run').addEventListener('click', () => void guarded(fullRun));
  $('stop').addEventListener('click', stopAction);
  $('run-prompt').addEventListener('click', () => void guarded(promptRun));
  // another model folder: a URL, or a folder picked on this computer; then the prompt runs on it
  if (params.has('model')) {
    ($('model-url') as HTMLInputElement).value = params.get('model')!;
    ($('model-box') as HTMLDetailsElement).open = true;
  }
  $('model-load').addEventListener('click', () => {
    if (modelBusy()) return;
    const url = ($('model-url') as HTMLInputElement).value.trim();
    if (!url) {
      $('model-error').textContent = 'Not loaded: type the URL of a model folder (the folder that holds model_index.json) first';
      $('model-error').hidden = false;
      info.modelError = $('model-error').textContent;
      return;
    }
    modelChoice = { kind: 'url', url };
    void guarded(promptRun);
  });
  $('model-pick').addEventListener('change', () => {
    // the input is disabled during a run; a choice made anyway would silently become the next run's model
    if (modelBusy()) {
      ($('model-pick') as HTMLInputElement).value = '';
      return;
    }
    const picked = Array.from(($('model-pick') as HTMLInputElement).files ?? []);
    if (!picked.length) return;
    // webkitRelativePath is "FOLDER/sub/file": the loader takes paths under the folder picked
    const top = picked[0]!.webkitRelativePath.split('/')[0] || 'picked folder';
    const files = new Map(picked.map((f) => [f.webkitRelativePath.split('/').slice(1).join('/') || f.name, f]));
    modelChoice = { kind: 'picked', name: top, files };
    void guarded(promptRun);
  });
  $('model-served').addEventListener('click', () => {
    modelChoice = { kind: 'served' };
    void guarded(promptRun);
  });
  $('prompt').addEventListener('keydown', (ev) => {
    if ((ev as KeyboardEvent).key !== 'Enter') return;
    if (busy) {
      // the button is disabled meanwhile, and says so; Enter in the field would otherwise be dropped without a word
      const el = $('prompt-input-error');
      el.textContent = RUN_IN_PROGRESS;
      el.hidden = false;
      return;
    }
    void guarded(promptRun);
  });
  if (params.has('prompt')) ($('prompt') as HTMLInputElement).value = params.get('prompt')!;
  if (params.has('steps')) ($('prompt-steps') as HTMLInputElement).value = params.get('steps')!;
  if (params.has('seed')) ($('prompt-seed') as HTMLInputElement).value = params.get('seed')!;
  // a preset in the URL: the random-weight controls open (and the page runs the preset)
  if (params.has('preset')) ($('preset-box') as HTMLDetailsElement).open = true;
  // timing=wall starts with the wall-clock box ticked; the box is read at each run
  ($('wall-clock') as HTMLInputElement).checked = params.get('timing') === 'wall';
  // the timeline is drawn to its box's width: a window made wider or narrower redraws it, once a frame at most,
  // and only when the drawing's width would change (not for a height change, nor below the 600 px it keeps)
  let pending = false;
  window.addEventListener('resize', () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (run && timelineWidth() !== drawnWidth) drawTimeline(run);
    });
  });
  // the timeline by keyboard: one tab stop; + and − zoom around the middle, the arrows pan, Home/End go to
  // either end, 0 shows the whole run again (as the wheel, dragging and a double-click do)
  const tl = $('timeline');
  tl.tabIndex = 0;
  tl.setAttribute('role', 'group');
  tl.setAttribute('aria-roledescription', 'timeline');
  tl.setAttribute('aria-label', 'timeline of the profiled dispatches: + and − zoom, left and right arrows pan, Home and End go to either end, 0 shows all');
  tl.setAttribute('aria-describedby', 'timeline-view');
  tl.setAttribute('aria-keyshortcuts', '+ - ArrowLeft ArrowRight Home End 0');
  tl.addEventListener('keydown', (ev) => {
    if (timelineKey(ev.key)) ev.preventDefault();
  });
  $('axis').addEventListener('change', () => {
    info.timelineView = null; // the other axis has other coordinates
    if (run) drawTimeline(run);
  });
  $('recompile').addEventListener('click', () => void guarded(recompile));
  $('retime').addEventListener('click', () => void guarded(retimeOnly));
  $('source').addEventListener('keydown', (ev) => editorKey(ev as KeyboardEvent));
  $('source').addEventListener('blur', () => (leaveEditor = false));
  // the kernel list is a listbox: the arrows, Home, End, PageUp/PageDown open the next kernel; Enter goes to its source
  $('kernel-list').addEventListener('keydown', (ev) => {
    const k = ev as KeyboardEvent;
    const li = (k.target as HTMLElement).closest('li');
    if (!li) return;
    if (k.key === 'Enter') {
      k.preventDefault();
      $('source').focus();
      return;
    }
    const to = listMove(li, k.key);
    if (!to) return;
    k.preventDefault();
    pickKernel(to.dataset.kernel!);
    to.focus();
  });
  $('revert').addEventListener('click', () => void guarded(revert));
  $('source').addEventListener('input', () => {
    kernelPicked = true;
    markEdited();
  });
  for (const id of ['kernels', 'step-kernels'] as const) {
    $(`${id}-more`).addEventListener('click', () => {
      if (!allRows.delete(id)) allRows.add(id);
      showTopRows(id);
    });
  }
  // kernel edits live only in this page: leaving or reloading it with any (compiled or not) asks first
  window.addEventListener('beforeunload', (ev) => {
    if (!drafts.size && ![...originals].some(([n, src]) => kernelSource(n) !== src)) return;
    ev.preventDefault();
    ev.returnValue = ''; // older Chromium shows the prompt only when returnValue is set
  });
}

/** Escape was pressed in the editor: the next Tab leaves it (as CodeMirror's Escape, Tab) instead of indenting. */
let leaveEditor = false;

/**
 * Keys of the WGSL editor as in a code editor, without trapping the keyboard: Tab indents (two spaces, the
 * kernels' indent) and Shift+Tab outdents the caret's line; Escape, then Tab or Shift+Tab, leaves the
 * editor; Enter keeps the line's indent; Ctrl+Enter (⌘+Enter) is Recompile & re-time (ignored while a run is
 * in progress). Text goes in with execCommand('insertText'), so undo (Ctrl+Z) still works.
 */
function editorKey(k: KeyboardEvent): void {
  const ta = k.target as HTMLTextAreaElement;
  if (['Shift', 'Control', 'Alt', 'Meta'].includes(k.key)) return; // Escape, then Shift+Tab: the Shift keydown keeps the way out
  if (k.key === 'Escape') {
    leaveEditor = true;
    return;
  }
  const leave = leaveEditor;
  leaveEditor = false;
  if (k.key === 'Enter' && (k.ctrlKey || k.metaKey)) {
    k.preventDefault();
    // Ctrl+Enter: Recompile & re-time (a new clip); with Shift: Re-time only (the kernel's dispatches replayed)
    const [id, fn, inProgress] = k.shiftKey ? (['retime', retimeOnly, RETIME_IN_PROGRESS] as const) : (['recompile', recompile, RECOMPILE_IN_PROGRESS] as const);
    const b = $(id) as HTMLButtonElement;
    if (!b.disabled) void guarded(fn);
    // the button is disabled meanwhile: say so where the result would show, instead of dropping the key
    else $('compile-status').textContent = busy ? inProgress : b.title || `${b.textContent} is not available`;
    return;
  }
  if (k.altKey || k.ctrlKey || k.metaKey) return;
  const lineStart = ta.value.lastIndexOf('\n', ta.selectionStart - 1) + 1;
  if (k.key === 'Tab' && !leave) {
    k.preventDefault();
    if (!k.shiftKey) {
      document.execCommand('insertText', false, '  ');
      return;
    }
    const spaces = /^ {0,2}/.exec(ta.value.slice(lineStart))![0].length;
    if (!spaces) return;
    const at = ta.selectionStart;
    ta.setSelectionRange(lineStart, lineStart + spaces);
    document.execCommand('delete');
    ta.setSelectionRange(Math.max(lineStart, at - spaces), Math.max(lineStart, at - spaces));
  } else if (k.key === 'Enter' && !k.shiftKey) {
    k.preventDefault();
    document.execCommand('insertText', false, `\n${/^[ \t]*/.exec(ta.value.slice(lineStart))![0]}`);
  }
}

const BUTTONS = ['run', 'run-prompt', 'recompile', 'retime', 'revert', 'model-load', 'model-served', 'model-pick'];
/** What Enter in the prompt field says while a run is in progress (cleared when that run ends). */
const RUN_IN_PROGRESS = 'Not run: a run is in progress; press Enter again when it has ended.';
/** What Ctrl+Enter in the editor says while a run is in progress (cleared when that run ends, unless the run wrote its own status). */
const RECOMPILE_IN_PROGRESS = 'not compiled: a run is in progress; press Ctrl+Enter again when it has ended';
/** What Ctrl+Shift+Enter in the editor says while a run is in progress (cleared as RECOMPILE_IN_PROGRESS is). */
const RETIME_IN_PROGRESS = 'not re-timed: a run is in progress; press Ctrl+Shift+Enter again when it has ended';
/** What the model box says when a model is chosen while a run is in progress (cleared when that run ends). */
const MODEL_IN_PROGRESS = 'Not loaded: a run is in progress; choose the model again when it has ended.';
let busy = false;
/** During a run: say so under the model box (nothing is loaded or remembered for the next run) and answer true. */
function modelBusy(): boolean {
  if (!busy) return false;
  const el = $('model-error');
  el.textContent = MODEL_IN_PROGRESS;
  el.hidden = false;
  info.modelError = el.textContent;
  return true;
}
/** The page did not start because of its URL parameters (urlProblems). */
let urlError = false;
/** The action in progress's stopper (guarded makes one per action): the Stop button aborts it. */
let stopper: AbortController | null = null;
/** Whether the action in progress drew a new clip (a stopped preset run may have, before its profile). */
let clipDrawn = false;

/** The Stop button: aborts the action in progress; the line says "stopping…" until it has stopped (at its next check). */
function stopAction(): void {
  if (!stopper || stopper.signal.aborted) return;
  const doing = $('status').textContent ?? '';
  stopper.abort(new Error('the Stop button'));
  ($('stop') as HTMLButtonElement).disabled = true;
  $('status').textContent = `stopping (was: ${doing})…`;
}

/**
 * Stops the action in progress here when Stop was pressed: the library's AbortError (`WHERE: aborted (the Stop
 * button)`). The page's own steps that take no signal (a random model's upload, profilePlan's repeats) check it between.
 */
const stopPoint = (where: string): void => throwIfAborted(stopper?.signal, where);

/** Whether `e` is the abort of the Stop button (and not another failure that came after it). */
const isStop = (e: unknown): boolean => !!stopper?.signal.aborted && (e as Error | null)?.name === 'AbortError';

async function guarded(fn: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  for (const id of BUTTONS) ($(id) as HTMLButtonElement).disabled = true;
  stopper = new AbortController();
  clipDrawn = false;
  ($('stop') as HTMLButtonElement).disabled = false;
  // a new action: the previous error no longer describes the page
  $('error').hidden = true;
  info.error = null;
  try {
    await fn();
  } catch (e) {
    if (isStop(e)) {
      // where it stopped (the library's words), and what the page shows now: every run's results are drawn at its end
      const shown = info.runs ? `${clipDrawn ? "the clip is the stopped run's; " : ''}the timeline and tables are still run ${info.runs}'s` : 'no run has finished yet';
      info.stopped = `stopped: ${(e as Error).message}; ${shown}`;
      setState('stopped', info.stopped);
      console.info(info.stopped);
    } else if (e instanceof RunRefused) {
      // the fit check's one line (the figures, what to change), in the status; nothing was uploaded or run
      info.error = e.message;
      setState('error', e.message, true);
    } else if (e instanceof ModelNotLoadedError) {
      // said once, under the model box (not again in the error box); the results on the page are the last run's
      info.error = e.message;
      setState('error', `not loaded: see the line under the model box${info.runs ? `; the results below are still run ${info.runs}'s` : ''}`, true);
    } else showError(e);
  } finally {
    busy = false;
    stopper = null;
    ($('stop') as HTMLButtonElement).disabled = true;
    // Enter pressed during the run was answered with "a run is in progress": not true any more
    const inProgress = $('prompt-input-error');
    if (inProgress.textContent === RUN_IN_PROGRESS) {
      inProgress.textContent = '';
      inProgress.hidden = true;
    }
    if ([RECOMPILE_IN_PROGRESS, RETIME_IN_PROGRESS].includes($('compile-status').textContent ?? '')) $('compile-status').textContent = '';
    if ($('model-error').textContent === MODEL_IN_PROGRESS) {
      $('model-error').hidden = true;
      info.modelError = null;
    }
    // without a device nothing can run: the buttons stay disabled and say why
    for (const id of BUTTONS) {
      const b = $(id) as HTMLButtonElement;
      b.disabled = !gpu;
      b.title = gpu ? (b.dataset.title ?? '') : urlError ? 'the URL parameters are invalid: see the message above' : 'no WebGPU device: see the message above';
    }
  }
}

// ---------------------------------------------------------------- model, clip, profile

interface Job {
  preset: string;
  latent: { frames: number; height: number; width: number };
  steps: number;
  guidance: number;
  seed: number;
  /** Time dispatches by the wall clock (the page's box when the run was started). */
  wallClock: boolean;
}
/** A prompt run's inputs, read once when it is started. */
interface PromptJob {
  prompt: string;
  steps: number;
  seed: number;
  wallClock: boolean;
}
/** The settings of a completed run (PageInfo.runSettings). */
export type RunSettings = ({ mode: 'preset' } & Job) | ({ mode: 'prompt' } & PromptJob);
/** The preset run that the current timings come from (a kernel-edit re-run repeats it). */
let job: Job | null = null;
/** The prompt run that the current timings come from. */
let promptJob: PromptJob | null = null;

function batchInputs(m: DiffusionModel, j: Job): { shape: number[]; text?: TensorData; neg?: TensorData } {
  // the shapes the fit check measured (budget.ts)
  const { latent: shape, text } = runShapes(m.config, j);
  if (!text) return { shape };
  const n = text.reduce((a, b) => a * b, 1);
  return { shape, text: { data: noise(n, 11), shape: text }, neg: { data: noise(n, 12), shape: text } };
}

/** The memory budget (set at start: maxMemory in the address, else navigator.deviceMemory's share; budget.ts). */
let budget: Budget = { source: 'not read yet' };

async function ensureModel(j: Job): Promise<DiffusionModel> {
  const key = `${j.preset}|${j.seed}`;
  if (model && modelKey === key) return model;
  model?.destroy();
  model = null;
  setState('running', `uploading random weights of ${j.preset}…`);
  await sleepFrame();
  info.uploads++;
  // on a CPU adapter the budget is the model's maxMemory too (its GPU memory is the host's), as checkPresetFits took it
  const maxMemory = gpu!.isCpu ? budget.bytes : undefined;
  model = await loadRandomModel(getPreset(j.preset).config, { gpu: gpu!, seed: j.seed, name: j.preset, ...(maxMemory !== undefined ? { maxMemory } : {}) });
  stopPoint(`uploading ${j.preset}, after its random weights`); // modelKey unset: the next run makes the model again
  vae?.dispose();
  vae = null;
  setState('running', `uploading a random-weight VAE decoder for ${j.preset}…`);
  vae = await loadRandomVae(gpu!, model.family, model.config.inChannels, j.seed);
  stopPoint(`uploading ${j.preset}, after its VAE decoder`);
  modelKey = key;
  return model;
}

async function generateClip(m: DiffusionModel, j: Job): Promise<void> {
  const { shape, text, neg } = batchInputs(m, j);
  const c = m.config;
  const scheduler = c.family === 'wan' ? 'FlowMatchEulerDiscreteScheduler' : 'DDIMScheduler';
  const t0 = performance.now();
  const stepAt: number[] = [];
  const res = await generate(m, {
    scheduler,
    num_inference_steps: j.steps,
    guidance_scale: j.guidance,
    shift: c.family === 'wan' ? 3 : undefined,
    scheduler_config: c.family === 'wan' ? undefined : { clip_sample: false },
    seed: j.seed,
    shape,
    encoder_hidden_states: text,
    // only with CFG: at guidance 1 the library would note that they are unused (session 23 bench review #11)
    ...(j.guidance > 1 ? { negative_encoder_hidden_states: neg } : {}),
    class_labels: c.family === 'dit' ? [1] : undefined,
    signal: stopper?.signal,
    onStep: (s, n) => {
      stepAt.push(performance.now());
      nextPhase(`denoising step ${s}/${n}…`);
    },
  });
  const secs = (performance.now() - t0) / 1000;
  // the first step records the plan and compiles its pipelines (slow on CPU adapters)
  const first = (stepAt[0]! - t0) / 1000;
  const rest = stepAt.length > 1 ? (stepAt.at(-1)! - stepAt[0]!) / 1000 / (stepAt.length - 1) : null;
  const work = workWords(info.kernelWork.generate);
  const timing = rest === null ? '' : ` (first step ${first.toFixed(2)} s incl. recording${work ? ` and ${work}` : ''}, then ${rest.toFixed(2)} s/step)`;
  // decode: the pipeline's scaling + the VAE decoder, then diffusers' output_type="np" frames
  nextPhase(`decoding with ${vae!.kind === 'wan' ? 'AutoencoderKLWan' : 'AutoencoderKL'}…`);
  workStage = 'decode';
  await sleepFrame();
  stopPoint('the preset run, before the VAE decode');
  const t1 = performance.now();
  // profiled as it runs: every dispatch of every frame/band piece timed (one pass per dispatch); without
  // timestamps each dispatch is submitted alone once, in order, by the wall clock (a piece is not re-run:
  // it may update its caches in place)
  const decoded = await profileDecode(vae!, res.latents, j.wallClock || !gpu!.timestamps ? { profile: wallClockEachOnce } : {});
  lastLatents = res.latents;
  const decodeS = (performance.now() - t1) / 1000;
  decodeRun = decoded.run;
  info.decode = { dispatches: decodeRun.dispatches.length, totalMs: decodeRun.totalMs, timing: decodeRun.timing };
  const pixels = postprocessSample(decoded.sample);
  const fr = videoToFrames(pixels);
  info.decoded = true;
  info.frameSize = [fr.width, fr.height];
  showFrames(fr.frames, fr.width, fr.height);
  labelFrames('preset');
  const fps = c.family === 'wan' ? 16 : 8;
  $('frames-caption').textContent =
    `${fr.frames.length} frame${fr.frames.length > 1 ? 's' : ''} ${fr.width}×${fr.height} decoded from latents [${shape.join(',')}], ${j.steps} step${j.steps > 1 ? 's' : ''} ${scheduler}${j.guidance > 1 ? `, CFG ${j.guidance}` : ''} in ${secs.toFixed(2)} s${timing}; decode ${decodeS.toFixed(2)} s`;
  await showClip(fr, fps);
}

/**
 * The page's mode (what a kernel edit re-runs) and what it says of the frames just drawn: a preset's random
 * weights (the note, the decoder) or the trained pipeline. Called when a run's frames are drawn, so a run that
 * fails before (a model folder that does not load) leaves the results on the page described as they were.
 */
function labelFrames(kind: 'prompt' | 'preset'): void {
  mode = kind;
  info.mode = kind;
  $('random-note').hidden = kind === 'prompt';
  $('frames-about').textContent =
    kind === 'prompt'
      ? 'Latents → pixels through the pipeline\'s AutoencoderKLWan decoder (trained), then diffusers\' output_type="np" mapping.'
      : 'Latents → pixels through a VAE decoder with random weights (AutoencoderKLWan for Wan, AutoencoderKL for DiT), then diffusers\' output_type="np" mapping.';
  if (kind === 'preset') {
    // the judge reads prompt runs' clips only
    info.judge = null;
    $('judge').hidden = true;
  }
}

/** The decoded clip: a GIF download link, and the MP4 player. */
async function showClip(fr: { width: number; height: number; frames: Uint8ClampedArray[] }, fps: number): Promise<void> {
  clipFps = fps;
  if (gifUrl) URL.revokeObjectURL(gifUrl);
  gifUrl = URL.createObjectURL(new Blob([encodeGif(fr.frames, fr.width, fr.height, { fps }) as BlobPart], { type: 'image/gif' }));
  const a = $('gif') as HTMLAnchorElement;
  a.href = gifUrl;
  a.hidden = false;
  await showMp4(fr, fps);
}

/** The clip as an MP4 (WebCodecs + mediabunny) in a <video> that plays it, with a download link. */
async function showMp4(fr: { width: number; height: number; frames: Uint8ClampedArray[] }, fps: number): Promise<void> {
  const video = $('clip') as HTMLVideoElement;
  const link = $('mp4') as HTMLAnchorElement;
  if (mp4Url) URL.revokeObjectURL(mp4Url);
  mp4Url = '';
  try {
    const mp4 = await encodeMp4WebCodecs(fr, { fps });
    mp4Url = URL.createObjectURL(new Blob([mp4.bytes as BlobPart], { type: 'video/mp4' }));
    video.src = mp4Url;
    followPlayer(video, fps);
    theClipLoop().wake(); // it autoplays: the loop stops it with the canvas
    video.style.width = ($('frames') as HTMLCanvasElement).style.width;
    video.hidden = false;
    $('clip-figure').hidden = false;
    $('clip-label').textContent = `The same clip as the MP4 download (${mp4.codec === 'avc' ? 'H.264' : 'VP9'}, lossy). The frames beside it follow its frame.`;
    link.href = mp4Url;
    link.hidden = false;
    link.textContent = `download MP4 (${mp4.encoder}, ${(mp4.bytes.length / 1024).toFixed(1)} KiB)`;
    info.mp4 = { codec: mp4.codec, bytes: mp4.bytes.length, width: mp4.width, height: mp4.height, frames: fr.frames.length, fps };
    info.mp4Error = null;
  } catch (e) {
    video.hidden = true;
    $('clip-figure').hidden = true;
    link.hidden = true;
    info.mp4 = null;
    info.mp4Error = (e as Error).message;
    $('mp4-note').textContent = (e as Error).message;
  }
}

/**
 * Makes the frames canvas show the frame the MP4 player presents (requestVideoFrameCallback), so the page shows one
 * clip twice in step — the player's pauses and frame steps included — instead of two loops at their own rates (the
 * canvas's 8 fps timer, the player's `fps`; session 22's review read them as two different clips). Where the
 * browser lacks requestVideoFrameCallback the canvas keeps animating on its own (its caption says so).
 * @param fps the MP4's frames per second: a presented frame at media time t is frame round(t·fps).
 */
function followPlayer(video: HTMLVideoElement, fps: number): void {
  if (typeof video.requestVideoFrameCallback !== 'function') {
    $('frames-label').textContent = "Decoded frames: the VAE's pixels, exact (animated on their own: this browser cannot follow the player's frames)";
    return;
  }
  const token = canvasClip.token;
  info.canvasFollows = true;
  const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
    if (token !== canvasClip.token) return; // a newer clip is shown
    canvasClip.draw(Math.min(canvasClip.n - 1, Math.max(0, Math.round(meta.mediaTime * fps))));
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

/** About how many CSS pixels a frame of the strip takes on screen (a whole multiple of its size, at least 1:1). */
const STRIP_FRAME_PX = 96;

function showFrames(frames: Uint8ClampedArray[], w: number, h: number): void {
  clipDrawn = true;
  let hash = 0x811c9dc5;
  for (const f of frames) for (let i = 0; i < f.length; i += 4) hash = Math.imul(hash ^ (f[i]! | (f[i + 1]! << 8) | (f[i + 2]! << 16)), 0x01000193) >>> 0;
  info.frameHash = hash.toString(16).padStart(8, '0');
  info.frames = frames.length;
  const images = frames.map((f) => new ImageData(new Uint8ClampedArray(f), w, h));
  const cv = $('frames') as HTMLCanvasElement;
  cv.width = w;
  cv.height = h;
  cv.style.width = `${w * Math.max(1, Math.floor(192 / Math.max(w, h)))}px`; // small clips shown enlarged, pixelated
  const ctx = cv.getContext('2d')!;
  const draw = (i: number) => {
    ctx.putImageData(images[i]!, 0, 0);
    info.canvasFrame = i;
  };
  // a new clip: the canvas animates on its own until the player has this clip's MP4 (followPlayer)
  canvasClip.token++;
  Object.assign(canvasClip, { draw, n: images.length });
  info.canvasFollows = false;
  $('frames-label').textContent = "Decoded frames: the VAE's pixels, exact";
  draw(0);
  theClipLoop().start(images.length > 1 ? () => void (info.canvasFollows || draw((info.canvasFrame + 1) % images.length)) : null);
  // all frames side by side at 1:1 (2 px apart), shown enlarged by a whole factor (pixelated, style.css) so that a
  // small clip's frames are about STRIP_FRAME_PX on screen (32×32: 3×, 96 px); the strip scrolls when wider
  const strip = $('strip') as HTMLCanvasElement;
  const gap = 2;
  strip.width = images.length * (w + gap) - gap;
  strip.height = h;
  strip.style.width = `${strip.width * Math.max(1, Math.floor(STRIP_FRAME_PX / Math.max(w, h)))}px`;
  strip.hidden = images.length < 2;
  const sctx = strip.getContext('2d')!;
  images.forEach((im, i) => sctx.putImageData(im, i * (w + gap), 0));
}

/** The plan of one forward step at the generation's batch (CFG doubles it), inputs written. */
function profileInputs(m: DiffusionModel, j: Job): ForwardInputs {
  const { shape, text, neg } = batchInputs(m, j);
  const B = j.guidance > 1 ? 2 : 1;
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  const inputs: ForwardInputs = { hidden_states: { data: noise(B * per, 5), shape: [B, ...shape.slice(1)] }, timestep: new Array(B).fill(500) };
  if (text && neg) inputs.encoder_hidden_states = { data: B === 2 ? Float32Array.from([...text.data, ...neg.data]) : text.data, shape: [B, ...text.shape.slice(1)] };
  if (m.config.family === 'dit') inputs.class_labels = new Array(B).fill(1);
  return inputs;
}

/**
 * Per-dispatch wall clock when the adapter has no timestamp-query: each dispatch submitted
 * alone and awaited (submit and wake-up overhead included, so small kernels read high).
 */
async function wallClockPerDispatch(p: Plan, repeats: number): Promise<ProfileRun> {
  const base = await profilePlan(p, { repeats: 1, warmup: 1, forceWallClock: true });
  const dev = p.gpu.device;
  let start = 0;
  for (let i = 0; i < p.dispatches.length; i++) {
    stopPoint(`the wall-clock profile, before dispatch ${i + 1}/${p.dispatches.length}`);
    const d = p.dispatches[i]!;
    const samples: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      const enc = dev.createCommandEncoder({ label: `wall:${d.kernel}` });
      p.encode(enc, i, i + 1);
      dev.queue.submit([enc.finish()]);
      await dev.queue.onSubmittedWorkDone();
      samples.push(performance.now() - t0);
    }
    const pd = base.dispatches[i]!;
    pd.samples = samples;
    pd.ms = median(samples);
    pd.startMs = start;
    pd.runMs = pd.ms;
    start += pd.ms;
  }
  base.note =
    `timestamp-query ${p.gpu.timestamps ? 'turned off (wall-clock timing ticked, or timing=wall in the URL)' : 'is missing on this adapter'}: the step time is wall clock around onSubmittedWorkDone(); ` +
    `the per-dispatch bars come from submitting each dispatch alone and awaiting it (median of ${repeats}), so they include submit and wake-up overhead`;
  return base;
}

/**
 * One run of `p` with each dispatch submitted alone, in order, and awaited (the wall clock per dispatch, submit and
 * wake-up overhead included): what a decode piece gets without timestamps, run once as the decode runs it.
 */
async function wallClockEachOnce(p: Plan): Promise<ProfileRun> {
  const dev = p.gpu.device;
  await p.compile();
  const t0 = performance.now();
  const ms: number[] = [];
  for (let i = 0; i < p.dispatches.length; i++) {
    const t = performance.now();
    const enc = dev.createCommandEncoder({ label: `wall:${p.dispatches[i]!.kernel}` });
    p.encode(enc, i, i + 1);
    dev.queue.submit([enc.finish()]);
    await dev.queue.onSubmittedWorkDone();
    ms.push(performance.now() - t);
  }
  const run = wallClockRun(p.gpu, p.dispatches, { wallMs: performance.now() - t0, peakBytes: p.alloc.peakBytes, residentBytes: 0, forced: p.gpu.timestamps });
  let start = 0;
  run.dispatches.forEach((d, i) => {
    d.samples = [ms[i]!];
    d.ms = d.runMs = ms[i]!;
    d.startMs = start;
    start += ms[i]!;
  });
  run.note = `timestamp-query ${p.gpu.timestamps ? 'turned off (wall-clock timing ticked, or timing=wall in the URL)' : 'is missing on this adapter'}: each dispatch of the decode was submitted alone and awaited, once, so its time includes submit and wake-up overhead`;
  return run;
}

/** Whether runs time each dispatch by the wall clock instead of timestamp-query (the page's box; ?timing=wall ticks it). */
const wallClockTiming = (): boolean => ($('wall-clock') as HTMLInputElement).checked;

async function profileStep(m: DiffusionModel, j: Job): Promise<void> {
  setState('running', 'profiling one forward step…');
  showProgress('');
  workStage = 'profile';
  await sleepFrame();
  stopPoint('the preset run, before profiling its step');
  const stepPlan = m.planFor(profileInputs(m, j));
  // a new run shows all (another preset's step has another length: the old zoom could show none of it);
  // a kernel edit's re-run of the same settings keeps the zoom, to compare before → after at the same place
  if (j !== job) info.timelineView = null;
  const forceWall = j.wallClock;
  const profiled = forceWall || !gpu!.timestamps ? await wallClockPerDispatch(stepPlan, REPEATS) : await profilePlan(stepPlan, { repeats: REPEATS, warmup: 1 });
  stopPoint('the preset run, after profiling its step');
  // the step's plan and times replace the last run's together (a stopped run leaves both as they were)
  plan = stepPlan;
  run = profiled;
  stageRanges = null; // `run` is this step's now: no stages
  info.runs++;
  info.timing = run.timing;
  info.dispatches = plan.dispatches.length;
  info.coarseTimestamps = run.timing === 'gpu-timestamps' && looksCoarse(run);
  const note = $('timing-note');
  const notes: string[] = [];
  if (run.timing === 'wall-clock') notes.push(`No GPU timestamps: ${run.note ?? 'wall clock'}.`);
  if (info.coarseTimestamps) {
    notes.push(
      'Timestamp resolution looks coarse (every duration is a multiple of 100 µs, or many read as 0): Chrome quantizes WebGPU timestamps unless started with ' +
        '--enable-webgpu-developer-features (or chrome://flags "WebGPU Developer Features"). Short kernels read as 0 or 0.1 ms.',
    );
  } else if (run.dropped) notes.push(`${run.dropped} zero/negative timestamp deltas were dropped.`);
  note.textContent = notes.join(' ');
  note.hidden = notes.length === 0;
  // a preset step has no stages: the prompt run's per-stage table goes with its timeline
  info.stages = [];
  info.stepKernels = [];
  info.stepKernelsNote = null;
  stepChoices = [];
  $('steps-section').hidden = true;
  $('timeline-title').textContent = 'Timeline of one forward step';
  $('timeline-caption').textContent = `${m.name}, batch ${j.guidance > 1 ? '2 (CFG)' : '1'}: ${plan.dispatches.length} dispatches (${workText(run)}), ${sumMedians(run).toFixed(3)} ms ${run.timing === 'gpu-timestamps' ? 'GPU' : 'wall, each dispatch submitted alone'} (${medianWords(run)}: the table's total) — ${run.timing}`;
  drawTimeline(run);
  drawTable(run);
  showTableNotes(null); // a preset step's table has per-dispatch times (wall clock: each dispatch alone)
  if (decodeRun) {
    drawTable(decodeRun, 'vae-kernels');
    $('vae-caption').textContent = vaeCaption(vae!.kind === 'wan' ? 'AutoencoderKLWan' : 'AutoencoderKL', decodeRun);
  }
  const trace = chromeTrace(decodeRun ? [{ name: 'transformer step', run }, { name: 'VAE decode', run: decodeRun }] : run, TRACE_OPTIONS(run));
  publishTrace(trace);
  job = j;
  noteRunSettings();
  fillKernelList();
}

/** True when (nearly) every sample is a multiple of 0.1 ms, or most dispatches read as zero. */
function looksCoarse(r: ProfileRun): boolean {
  const all = r.dispatches.flatMap((d) => d.samples);
  const total = r.dispatches.length * r.repeats;
  if (total && r.dropped / total > 0.3) return true;
  if (all.length < 4) return false;
  const onGrid = all.filter((x) => Math.abs(x / 0.1 - Math.round(x / 0.1)) < 1e-4).length;
  return onGrid / all.length > 0.9;
}

// ---------------------------------------------------------------- timeline and table

const fmt = (v: number | null | undefined, d = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));
const gf = (flops: number, ms: number | null) => (ms && ms > 0 ? flops / (ms * 1e6) : null);

function drawTimeline(r: ProfileRun): void {
  const ds = r.dispatches;
  const families = [...new Set(ds.map((d) => d.family))];
  const axis = $('axis') as HTMLSelectElement;
  const packed = axis.value === 'packed' || r.timing !== 'gpu-timestamps';
  // without GPU timestamps there is no GPU clock to draw on: the choice is off, and says why
  axis.disabled = r.timing !== 'gpu-timestamps';
  axis.title = axis.disabled ? 'this run has no GPU timestamps (wall-clock timing): its bars are laid end to end' : '';
  // x positions in ms: packed lays bars end to end (busy time), each as wide as its dispatch's median over the
  // repeats (the tables' and the tooltip's figure); clock uses one repeat's GPU start stamps and durations
  // (the repeat whose step time is closest to the median: timelineBasis says which). Without any per-dispatch
  // time (a prompt run timed by the wall clock) x is the dispatch's number, not ms.
  const unit = timelineUnit(r);
  const xs: { x: number; w: number; timed: boolean }[] = [];
  let cur = 0;
  const barMs = (d: (typeof ds)[number]) => (unit === 'dispatch' ? 1 : packed ? d.ms : d.runMs);
  const minMs = unit === 'dispatch' ? 1 : (median(ds.map((d) => barMs(d) ?? 0).filter((v) => v > 0)) || 0.01) / 4;
  for (const d of ds) {
    const dw = barMs(d);
    const timed = unit === 'ms' && dw !== null && dw > 0;
    const w = timed || unit === 'dispatch' ? dw! : minMs;
    if (packed || d.startMs === null) {
      xs.push({ x: cur, w, timed });
      cur += w;
    } else {
      xs.push({ x: d.startMs, w, timed });
      cur = Math.max(cur, d.startMs + w);
    }
  }
  const span = cur || 1;
  // a kept zoom (a re-run) inside this run's length
  if (info.timelineView && info.timelineView[1] > span) info.timelineView = info.timelineView[1] - info.timelineView[0] >= span ? null : [span - (info.timelineView[1] - info.timelineView[0]), span];
  const [v0, v1] = info.timelineView ?? [0, span];
  const labelW = 100;
  const lane = 22;
  // prompt runs: a first lane of stages (text encoder, transformer, VAE decode) above the kernel lanes
  // (stageRanges belong to the run on the page, as `mode` does: both change when a run's results are drawn)
  const stages = stageRanges;
  const top = stages ? 1 : 0;
  const lanes = families.length + top;
  const host = $('timeline');
  const width = timelineWidth();
  drawnWidth = width;
  const plotW = width - labelW - 10;
  const axisH = 20;
  const height = lanes * lane + axisH + 6;
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  // for screen readers: what the picture holds, and where the same numbers are as text
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `timeline: ${ds.length} dispatches in lanes ${[...(stages ? ['stage'] : []), ...families].join(', ')}, ${unit === 'dispatch' ? `in dispatch order, no per-dispatch times (${r.note ?? 'wall clock'})` : `${fmt(span)} ms; ${timelineBasis(r, packed)}`}`);
  const el = (tag: string, attrs: Record<string, string | number>, text?: string) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  if (stages) {
    el('rect', { x: 0, y: 0, width, height: lane, fill: '#eef1f6' });
    el('text', { x: 6, y: 15, fill: '#333', 'font-weight': 600 }, 'stage');
  }
  families.forEach((f, i) => {
    const y = (i + top) * lane;
    el('rect', { x: 0, y, width, height: lane, fill: (i + top) % 2 ? '#fff' : '#f6f7f9' });
    el('text', { x: 6, y: y + 15, fill: '#333' }, f);
  });
  // the plot clips to its area (zoomed bars may start left of it)
  const clip = el('clipPath', { id: 'plot-clip' });
  const clipRect = document.createElementNS(NS, 'rect');
  for (const [k, v] of Object.entries({ x: labelW, y: 0, width: plotW + 10, height })) clipRect.setAttribute(k, String(v));
  clip.append(clipRect);
  const X = (t: number) => labelW + ((t - v0) / (v1 - v0)) * plotW;
  // axis ticks over the visible range
  const step = unit === 'dispatch' ? Math.max(1, Math.round(niceStep((v1 - v0) / 8))) : niceStep((v1 - v0) / 8);
  for (let t = Math.ceil(v0 / step) * step; t <= v1 + 1e-9; t += step) {
    const x = X(t);
    el('line', { x1: x, x2: x, y1: 0, y2: lanes * lane, stroke: '#e3e3e8' });
    // a label centred on a tick near the right edge would be cut by the drawing's edge: it ends at its tick instead
    el('text', { class: 'tick', x, y: lanes * lane + 14, 'text-anchor': x > width - 40 ? 'end' : 'middle', fill: '#666' }, unit === 'dispatch' ? `#${+t.toFixed(0)}` : `${+t.toFixed(4)} ms`);
  }
  stageBars = [];
  // each visible stage's box; a stage too short to see at this zoom (the text encoder beside a whole run: ~1 px)
  // is drawn MIN_STAGE_PX wide, its neighbour's box trimmed by as much, so that it can be seen, pointed at and
  // labelled (its title says so); the bars below keep their places
  const boxes: { k: number; st: NonNullable<typeof stages>[number]; x0: number; x1: number; ms: number; small: boolean }[] = [];
  for (const [k, st] of (stages ?? []).entries()) {
    if (st.to <= st.from) continue;
    const a = xs[st.from]!.x;
    const b = Math.max(...xs.slice(st.from, st.to).map((q) => q.x + q.w));
    if (b < v0 || a > v1) continue;
    const x0 = Math.max(X(a), labelW);
    const x1 = Math.min(X(b), labelW + plotW);
    boxes.push({ k, st, x0, x1, ms: ds.slice(st.from, st.to).reduce((t, d) => t + (d.ms ?? 0), 0), small: x1 - x0 < MIN_STAGE_PX });
  }
  boxes.forEach((bx, i) => {
    const prev = boxes[i - 1];
    if (prev) bx.x0 = Math.max(bx.x0, prev.x1);
    if (bx.small) bx.x1 = Math.max(bx.x1, bx.x0 + MIN_STAGE_PX);
  });
  // widened past the plot's end: pulled back, trimming the boxes before
  for (let i = boxes.length - 1, end = labelW + plotW; i >= 0; i--) {
    const bx = boxes[i]!;
    if (bx.x1 > end) {
      const w = bx.small ? MIN_STAGE_PX : bx.x1 - bx.x0;
      bx.x1 = end;
      bx.x0 = Math.max(labelW, Math.min(bx.x0, end - w));
    }
    end = bx.x0;
  }
  for (const bx of boxes) {
    const { k, st, small } = bx;
    const color = STAGE_COLORS[k % STAGE_COLORS.length]!;
    const box = el('rect', { class: `stage${small ? ' widened' : ''}`, 'data-stage': st.stage, x: bx.x0, y: 2, width: Math.max(1.5, bx.x1 - bx.x0), height: lane - 4, fill: color, stroke: color });
    const title = document.createElementNS(NS, 'title');
    // the whole name on hover, when the label is cut short; and what a widened box stands for
    title.textContent = `${st.name}: ${st.to - st.from} dispatches${r.timing === 'gpu-timestamps' ? `, ${fmt(bx.ms)} ms GPU` : ''}${small ? ` (drawn ${MIN_STAGE_PX} px wide to be seen: at this zoom it is narrower)` : ''}`;
    box.append(title);
    // the label stays inside its own stage's box (stages side by side share the lane): cut to fit, with an ellipsis
    const label = fitText(st.name, bx.x1 - bx.x0 - 8, host);
    if (label) el('text', { class: 'stage-label', 'data-stage': st.stage, x: bx.x0 + 4, y: 15, fill: '#222', 'clip-path': 'url(#plot-clip)' }, label);
  }
  let bars = 0;
  ds.forEach((d, i) => {
    const { x, w, timed } = xs[i]!;
    if (x + w < v0 || x > v1) return; // outside the zoomed view
    const k = stages ? stages.findIndex((st) => i >= st.from && i < st.to) : -1;
    if (k >= 0) stageBars[k] = (stageBars[k] ?? 0) + 1;
    const lanei = families.indexOf(d.family) + top;
    const rect = el('rect', {
      class: `bar${timed ? '' : ' untimed'}`,
      'data-i': i,
      'data-kernel': d.kernel,
      'clip-path': 'url(#plot-clip)',
      x: X(x),
      y: lanei * lane + 3,
      width: Math.max(1.5, (w / (v1 - v0)) * plotW),
      height: lane - 6,
      fill: familyColor(d.family),
    });
    rect.addEventListener('mousemove', (ev) => showTip(ev as MouseEvent, i));
    rect.addEventListener('mouseleave', () => ($('tip').hidden = true));
    rect.addEventListener('click', () => pickKernel(kernelFile(d.kernel)));
    bars++;
  });
  host.replaceChildren(svg);
  info.bars = bars;
  // wheel: zoom around the pointer; drag: pan; double-click: whole step
  const msAt = (clientX: number) => v0 + ((clientX - svg.getBoundingClientRect().left - labelW) / plotW) * (v1 - v0);
  const setView = (a: number, b: number) => {
    const w = Math.min(span, Math.max(b - a, span / 1e4));
    const lo = Math.min(Math.max(0, a), span - w);
    info.timelineView = lo <= 0 && w >= span ? null : [lo, lo + w];
    drawTimeline(r);
  };
  svg.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const at = msAt(ev.clientX);
    const f = ev.deltaY > 0 ? 1.25 : 0.8;
    setView(at - (at - v0) * f, at + (v1 - at) * f);
  }, { passive: false });
  svg.addEventListener('mousedown', (ev) => {
    const x0 = ev.clientX;
    const move = (e: MouseEvent) => {
      const dt = ((x0 - e.clientX) / plotW) * (v1 - v0);
      if (Math.abs(e.clientX - x0) > 2) setView(v0 + dt, v1 + dt);
    };
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  });
  svg.addEventListener('dblclick', () => setView(0, span));
  timelineNav = { v0, v1, span, setView };
  // said to screen readers (aria-describedby of the focusable box) and shown under the timeline
  const u = (v: number) => (unit === 'dispatch' ? `#${Math.round(v)}` : fmt(v));
  const of = unit === 'dispatch' ? `${ds.length} dispatches (no per-dispatch times: bars in dispatch order)` : `${fmt(span)} ms`;
  $('timeline-view').textContent = info.timelineView ? `showing ${u(v0)}–${u(v1)}${unit === 'ms' ? ' ms' : ''} of ${of} (zoomed ×${(span / (v1 - v0)).toFixed(1)}; 0 or a double-click shows all)` : `showing all ${of}`;
  $('timeline-basis').textContent = unit === 'dispatch' ? '' : `Bars: ${timelineBasis(r, packed)}.`;
  $('legend').replaceChildren(
    ...families.map((f) => {
      const s = document.createElement('span');
      const sw = document.createElement('i');
      sw.style.background = familyColor(f);
      s.append(sw, f);
      return s;
    }),
  );
}

/** What the timeline's x axis is in: ms, or (no dispatch has a time: a prompt run timed by the wall clock) the dispatch's number. */
const timelineUnit = (r: ProfileRun): 'ms' | 'dispatch' => (r.dispatches.some((d) => (d.ms ?? 0) > 0 || (d.runMs ?? 0) > 0) ? 'ms' : 'dispatch');

/** Which statistic the timeline's bars draw, in words (under the timeline, in its aria-label and in the tooltip). */
function timelineBasis(r: ProfileRun, packed: boolean): string {
  const n = Math.max(r.repeats, ...r.dispatches.map((d) => d.samples.length));
  if (r.timing !== 'gpu-timestamps') return `each dispatch's wall-clock time (submitted alone${n > 1 ? `, median of ${n}` : ''}), end to end, as in the tables`;
  if (packed) return n > 1 ? `each dispatch's median over ${n} repeats, as in the tables and the Chrome trace, end to end (gaps removed)` : 'each dispatch\'s one timed run, as in the tables, end to end (gaps removed)';
  const k = r.traceRepeat === undefined ? (stageRanges ? ' of each stage' : '') : ` (repeat ${r.traceRepeat + 1} of ${r.repeats})`;
  return `starts and widths from one repeat${k} on the GPU clock: the one whose time is closest to the median, to show the gaps between passes; the tables give each dispatch's median`;
}

let measureCtx: CanvasRenderingContext2D | null = null;
/** `text` as drawn in the timeline's SVG (11 px, the page's font) cut to at most `maxPx` wide, ending in '…' when cut; '' when not even one letter fits. */
function fitText(text: string, maxPx: number, host: HTMLElement): string {
  measureCtx ??= document.createElement('canvas').getContext('2d');
  if (!measureCtx) return text;
  measureCtx.font = `11px ${getComputedStyle(host).fontFamily}`;
  const w = (t: string) => measureCtx!.measureText(t).width;
  if (w(text) <= maxPx) return text;
  for (let n = text.length - 1; n >= 1; n--) {
    const t = `${text.slice(0, n).trimEnd()}…`;
    if (w(t) <= maxPx) return t;
  }
  return '';
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw || 1e-3));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

function showTip(ev: MouseEvent, i: number): void {
  const d = run!.dispatches[i]!;
  const tip = $('tip');
  const ms = d.ms;
  tip.textContent = [
    d.kernel,
    `layer     ${d.layer || '—'}`,
    `shapes    ${d.shapes}`,
    `workgroups ${d.workgroups.join('×')}`,
    `time      ${fmt(ms)} ms median${d.samples.length ? ` (${d.samples.length} samples)` : ' — untimed'}`,
    ...(($('axis') as HTMLSelectElement).value === 'clock' && run!.timing === 'gpu-timestamps' && d.runMs !== null ? [`bar       ${fmt(d.runMs)} ms in the repeat drawn on the GPU clock`] : []),
    `GFLOP/s   ${fmt(gf(d.flops, ms), 2)}   (${flopText(d.flops)})`,
    `GB/s      ${fmt(gf(d.bytes, ms), 2)}   (${byteText(d.bytes)} read and written)`,
    `dispatch  #${i}`,
  ].join('\n');
  tip.hidden = false;
  const x = Math.max(0, Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8)); // inside narrow windows too
  tip.style.left = `${x}px`;
  tip.style.top = `${ev.clientY + 14}px`;
}

function drawTable(r: ProfileRun, tableId = 'kernels'): void {
  const rows = kernelTable(r);
  if (tableId === 'kernels') {
    // the shares are of this table's own total: one step of a preset; in a prompt run all three stages
    const all = stageRanges !== null;
    $('share-head').textContent = all ? '% total' : '% step';
    $('share-head').title = r.dispatches.some((d) => d.ms !== null) ? shareBase(r) : 'no per-dispatch times in this run, so no shares';
  }
  const step = rows.reduce((a, x) => a + (x.totalMs ?? 0), 0);
  const tbody = ($(tableId) as HTMLTableElement).tBodies[0]!;
  tbody.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      tr.dataset.kernel = row.kernel;
      tr.dataset.family = row.family;
      const share = row.stepShare ?? (row.totalMs !== null && step > 0 ? row.totalMs / step : null);
      const cells = [row.kernel, String(row.calls), fmt(row.totalMs), fmt(row.meanMs), share === null ? '—' : `${(share * 100).toFixed(1)}%`, fmt(row.gflops, 2), fmt(row.gbps, 2)];
      cells.forEach((c, k) => {
        const td = document.createElement('td');
        if (k === 0) {
          const sw = document.createElement('span');
          sw.className = 'swatch';
          sw.style.background = familyColor(row.family);
          td.append(sw);
        }
        td.append(c);
        tr.append(td);
      });
      if (kernelFile(row.kernel) === info.lastCompile?.kernel && info.lastCompile.ok) tr.classList.add('flash');
      tr.tabIndex = -1; // one row of the table is in the tab order (markTableRows); the arrows move between rows
      tr.title = `open kernels/${kernelFile(row.kernel)}.wgsl in the editor (click; Enter: there, Space: stay here)`;
      tr.addEventListener('click', () => pickKernel(kernelFile(row.kernel)));
      return tr;
    }),
  );
  const table = tbody.parentElement as HTMLTableElement;
  table.dataset.run = String(info.runs);
  if (!table.dataset.keys) {
    table.dataset.keys = '1';
    tbody.addEventListener('keydown', (ev) => tableRowKey(ev, tbody));
  }
  sortTable(table);
  if (tableId === 'kernels') showTopRows('kernels');
  markTableRows();
  if (tableId === 'kernels') $('table-caption').textContent = `run ${info.runs}, ${r.timing}, ${new Date(r.date).toLocaleTimeString()}`;
  if (tableId === 'kernels') {
    $('share-base').textContent = r.dispatches.some((d) => d.ms !== null) ? shareBase(r) : '';
    $('share-base').hidden = !$('share-base').textContent;
  }
}

/**
 * Table `id`'s TOP_ROWS slowest rows (the per-kernel table by total ms, the stage table by each dispatch's median ms;
 * the others hidden, in any order the table is in) or all of them, with the line saying how many are shown and the
 * button that shows all or the top ones again. The shares, the 100 % and the stage's total stay those of all rows.
 */
function showTopRows(id: 'kernels' | 'step-kernels'): void {
  const rows = Array.from(($(id) as HTMLTableElement).tBodies[0]!.rows);
  const col = id === 'kernels' ? 2 : 3;
  const ms = (tr: HTMLTableRowElement) => parseFloat(tr.cells[col]?.textContent ?? '') || 0;
  const top = new Set([...rows].sort((a, b) => ms(b) - ms(a)).slice(0, TOP_ROWS));
  const all = allRows.has(id);
  for (const tr of rows) tr.hidden = !all && !top.has(tr);
  const n = rows.length;
  const noun = id === 'kernels' ? 'kernels' : 'dispatches';
  $(`${id}-top`).hidden = n <= TOP_ROWS;
  $(`${id}-shown`).textContent =
    n <= TOP_ROWS ? '' : all ? `all ${n} ${noun} shown`
    : id === 'kernels' ? `top ${TOP_ROWS} of ${n} kernels shown (the slowest by total ms); the % column and the 100 % above are of all ${n}`
    : `top ${TOP_ROWS} of ${n} dispatches shown (the slowest by median ms, in the order they ran); the stage's dispatches and ms above are of all ${n}`;
  $(`${id}-more`).textContent = all ? `show the top ${TOP_ROWS} only` : `show all ${n} ${noun}`;
  $(`${id}-more`).setAttribute('aria-expanded', String(all));
}

/**
 * What 100 % of the per-kernel table's share column is, in words: one forward step (a preset run), or in a prompt
 * run the three sections it adds up — the whole text encode, ONE denoising step of the loop, the whole VAE decode —
 * each with its own ms, so a row's share is not read as a share of the whole run.
 */
function shareBase(r: ProfileRun): string {
  const total = sumMedians(r);
  if (!stageRanges) return `100 % = ${fmt(total)} ms, one forward step (${medianWords(r)})`;
  const part = (st: NonNullable<typeof stageRanges>[number]) =>
    `${st.stage === 'transformer' ? `one denoising step of ${(info.stages.find((x) => x.stage === 'transformer')?.stepWallMs ?? []).length || 'the loop'} (${st.name})` : `the whole ${st.name}`} ${fmt(sumMedians(r, st.from, st.to))} ms`;
  return `100 % = ${fmt(total)} ms: ${stageRanges.map(part).join(' + ')} (the loop's other steps are not in this table: "Kernels per stage and denoising step" below)`;
}

/**
 * A key on a focused row of a kernel table: the arrows, Home, End, PageUp/PageDown move between rows;
 * Enter opens the row's kernel in the editor and goes to its source; Space opens it and stays on the row.
 */
function tableRowKey(ev: KeyboardEvent, tbody: HTMLTableSectionElement): void {
  const tr = (ev.target as HTMLElement).closest('tr');
  if (!tr) return;
  const kernel = kernelFile(tr.dataset.kernel!);
  if (ev.key === 'Enter' || ev.key === ' ') {
    ev.preventDefault();
    pickKernel(kernel);
    if (ev.key === 'Enter') $('source').focus();
    return;
  }
  const to = listMove(tr, ev.key);
  if (!to) return;
  ev.preventDefault();
  for (const r of Array.from(tbody.rows)) r.tabIndex = r === to ? 0 : -1;
  to.focus();
}

/**
 * The kernel tables' rows of the open kernel file are marked (class sel, aria-current), and each table keeps one
 * row in the tab order: the focused one, else the one that was (the table redrawn: the first row).
 */
function markTableRows(): void {
  for (const id of ['kernels', 'vae-kernels']) {
    const rows = Array.from(($(id) as HTMLTableElement).tBodies[0]!.rows);
    for (const r of rows) {
      const on = kernelFile(r.dataset.kernel!) === selected;
      r.classList.toggle('sel', on);
      if (on) r.setAttribute('aria-current', 'true');
      else r.removeAttribute('aria-current');
    }
    const shown = rows.filter((r) => !r.hidden); // the tab stop is a row that is shown
    const stop = shown.find((r) => r === document.activeElement) ?? shown.find((r) => r.tabIndex === 0) ?? shown[0];
    for (const r of rows) r.tabIndex = r === stop ? 0 : -1;
  }
}

// ---------------------------------------------------------------- kernel editor

/**
 * Variant keys of kernel file `name` that the last run dispatched: a prompt run's `run` holds all three
 * stages; a preset run's decode (conv[RESIDUAL,VEC4], vae_norm, …) is its own run, `decodeRun`.
 */
function variantKeysUsed(name: string): string[] {
  const dispatches = [...(run?.dispatches ?? []), ...(stageRanges === null ? (decodeRun?.dispatches ?? []) : [])];
  return [...new Set(dispatches.filter((d) => kernelFile(d.kernel) === name).map((d) => d.kernel))];
}

/** Variants of kernel file `name` that the last run dispatches (parsed from variant keys), the step's and the decode's: what a recompile compile-checks. */
function variantsUsed(name: string): VariantSel[] {
  const spec = kernelRegistry.get(name)!;
  const out = variantKeysUsed(name).map((k) => parseVariantKey(spec, k));
  return out.length ? out : [parseVariantKey(spec, name)];
}

function fillKernelList(): void {
  const counts = new Map<string, number>();
  // keyed like the list: by kernel file (gemm_tiled, gemm_gemv, …), not by family (gemm)
  // a preset run's decode (conv, vae_norm, vae_attention) is its own run; a prompt run's `run` holds all three stages
  const dispatches = [...(run?.dispatches ?? []), ...(stageRanges === null ? (decodeRun?.dispatches ?? []) : [])];
  for (const d of dispatches) counts.set(kernelFile(d.kernel), (counts.get(kernelFile(d.kernel)) ?? 0) + 1);
  const names = [...kernelRegistry.keys()].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || a.localeCompare(b));
  const ul = $('kernel-list');
  ul.replaceChildren(
    ...names.map((n) => {
      const li = document.createElement('li');
      li.dataset.kernel = n;
      li.setAttribute('role', 'option');
      li.tabIndex = -1; // one entry, the selected one, is in the tab order (selectKernel); arrows move within the list
      const c = counts.get(n) ?? 0;
      const edited = originals.has(n) && kernelSource(n) !== originals.get(n);
      // before any run nothing is counted: no "unused" (the first run says which kernels it dispatches)
      li.className = [c || !run ? '' : 'unused', n === selected ? 'sel' : '', edited ? 'edited' : '', edited && wrongEdits.has(n) ? 'wrong' : ''].filter(Boolean).join(' ');
      const label = document.createElement('span');
      label.textContent = n;
      const sw = document.createElement('span');
      sw.className = 'muted';
      sw.textContent = c ? `${c}×` : run ? 'unused' : '';
      li.append(label, sw);
      li.title = (c ? `${c} dispatches in this ${stageRanges ? 'run (all three stages)' : decodeRun ? 'step and its decode' : 'step'}` : run ? 'not dispatched by this model' : 'no run yet: the first run counts the dispatches of each kernel') +
        (edited && wrongEdits.has(n) ? ' — the edit in use computes a WRONG result (see the compile log)' : edited ? ' — edited' : '');
      li.addEventListener('click', () => pickKernel(n));
      if (drafts.has(n)) markDraft(li, true);
      return li;
    }),
  );
  // also when the selection stays: its variants and their source belong to the new plan; until the user opens a
  // kernel, the editor shows the list's first entry (the list and the editor agree after each run's reordering)
  selectKernel(!kernelPicked || !selected || !kernelRegistry.has(selected) ? names[0]! : selected);
}

/** Kernel `name` opened by the user (list, table row, timeline bar): the editor stays on it over later runs. */
function pickKernel(name: string): void {
  kernelPicked = true;
  selectKernel(name);
}

/**
 * What this adapter cannot run of kernel `spec`, in words ('' when it runs all of it): a kernel that
 * requires a missing feature (gemm_subgroup without subgroups), and flags whose code needs one
 * (F16 without shader-f16: the #if F16 code is never compiled here, so Recompile does not check it).
 */
function featureNote(spec: KernelSpec): string {
  const missing = lackedRequires(spec);
  if (missing.length) return `${spec.name} needs ${missing.join(' and ')}, which this adapter lacks: it cannot be compiled or run here.`;
  const off = Object.entries(spec.needs ?? {}).filter(([, f]) => !hasFeature(f!));
  if (!off.length) return '';
  return `This adapter lacks ${[...new Set(off.map(([, f]) => f))].join(' and ')}: ${off.map(([flag]) => flag).join(' and ')} ${off.length > 1 ? 'are' : 'is'} always off here, so the #if ${off.map(([flag]) => flag).join(' / #if ')} code is neither run nor compile-checked.`;
}

const hasFeature = (f: 'shader-f16' | 'subgroups'): boolean => !!(f === 'shader-f16' ? gpu?.f16 : gpu?.subgroups);
/** The device features kernel `spec` requires that this adapter lacks. */
const lackedRequires = (spec: KernelSpec) => (spec.requires ?? []).filter((f) => !hasFeature(f));

/** The kernel-list entry to move to from `li` for `key` (arrows, Home, End), or null for other keys. */
function listMove(li: HTMLElement, key: string): HTMLElement | null {
  const all = (Array.from(li.parentElement!.children) as HTMLElement[]).filter((e) => !e.hidden || e === li); // the per-kernel table's hidden rows are skipped
  const at = all.indexOf(li);
  const to = key === 'ArrowDown' ? at + 1 : key === 'ArrowUp' ? at - 1 : key === 'Home' ? 0 : key === 'End' ? all.length - 1 : key === 'PageDown' ? at + 10 : key === 'PageUp' ? at - 10 : null;
  return to === null ? null : all[Math.max(0, Math.min(all.length - 1, to))]!;
}

function selectKernel(name: string): void {
  const spec = kernelRegistry.get(name);
  if (!spec) return;
  const prevSel = selected;
  const ta = $('source') as HTMLTextAreaElement;
  // the kernel left keeps its unsaved text as a draft (restored when it is opened again)
  if (prevSel && prevSel !== name && ta.dataset.kernel === prevSel) saveDraft(prevSel, ta.value);
  selected = name;
  if (!originals.has(name)) originals.set(name, kernelSource(name));
  if (prevSel !== name || !ta.dataset.kernel) {
    ta.value = drafts.get(name) ?? kernelSource(name);
    ta.dataset.kernel = name;
    $('compile-log').hidden = true;
    $('compile-status').textContent = '';
  }
  for (const li of Array.from($('kernel-list').children) as HTMLElement[]) {
    const on = li.dataset.kernel === name;
    li.classList.toggle('sel', on);
    li.setAttribute('aria-selected', String(on));
    li.tabIndex = on ? 0 : -1;
  }
  markTableRows();
  $('kernel-name').textContent = `kernels/${name}.wgsl`;
  // a preset run: the step's variants, then those only its decode uses
  const inStep = [...new Set((run?.dispatches ?? []).filter((d) => kernelFile(d.kernel) === name).map((d) => d.kernel))];
  const inDecode = variantKeysUsed(name).filter((k) => !inStep.includes(k));
  // a prompt run's `run` holds its three stages: the variants are the whole run's, not one step's
  const where = stageRanges ? "this run's text encoder, denoising step and VAE decode" : 'this step';
  const parts = [inStep.length ? `in ${where}: ${inStep.join(', ')}` : '', inDecode.length ? `in its decode: ${inDecode.join(', ')}` : ''].filter(Boolean);
  $('kernel-variants').textContent = parts.length ? `variants ${parts.join('; ')}` : run ? 'not dispatched by this model (edits compile-check only)' : 'no run yet: the first run shows the variants it dispatches (an edit now is compile-checked, and the next run uses it)';
  $('kernel-features').textContent = featureNote(spec);
  $('kernel-features').hidden = !$('kernel-features').textContent;
  showVariantSource();
  markEdited();
}

function showVariantSource(): void {
  const spec = kernelRegistry.get(selected)!;
  try {
    $('variant-source').textContent = variantSource(spec, variantsUsed(selected)[0]);
  } catch (e) {
    $('variant-source').textContent = (e as Error).message;
  }
}

/** Keeps `text` as `name`'s draft when it differs from the source in use, else drops the draft; marks the list. */
function saveDraft(name: string, text: string): void {
  if (text !== kernelSource(name)) drafts.set(name, text);
  else drafts.delete(name);
  info.drafts = [...drafts.keys()].sort();
  const li = $('kernel-list').querySelector<HTMLElement>(`li[data-kernel="${name}"]`);
  if (li) markDraft(li, drafts.has(name));
}

/** A kernel list entry with unsaved text: class 'draft', a ● after the name, said in its title. */
function markDraft(li: HTMLElement, on: boolean): void {
  li.classList.toggle('draft', on);
  li.dataset.draft = on ? '1' : '';
  const label = li.firstElementChild as HTMLElement | null;
  if (label) label.textContent = `${li.dataset.kernel}${on ? ' ●' : ''}`;
  li.title = li.title.replace(/ — unsaved edits.*$/, '') + (on ? ' — unsaved edits (not compiled yet): kept until you recompile or revert' : '');
}

function markEdited(): void {
  const ta = $('source') as HTMLTextAreaElement;
  $('kernel-edited').hidden = ta.value === originals.get(selected);
  // the edit in use was found wrong (and the text is still that edit): said on the badge, as ✗ in the list
  const wrongNow = wrongEdits.has(selected) && ta.value === kernelSource(selected);
  $('kernel-edited').textContent = wrongNow ? 'edited: WRONG result' : 'edited';
  $('kernel-edited').classList.toggle('wrong', wrongNow);
  if (selected && ta.dataset.kernel === selected) saveDraft(selected, ta.value);
  const draft = $('kernel-draft');
  draft.hidden = !drafts.has(selected);
}

/**
 * Shows the compile log of kernel `name`: the editor opens `name` again first when another kernel was
 * opened while its recompile ran (the log, the status and an error's caret belong to its text).
 */
function showCompileLog(text: string, ok: boolean | 'slower', name = selected): void {
  if (selected !== name) selectKernel(name);
  const log = $('compile-log');
  log.textContent = text;
  log.classList.toggle('ok', ok === true);
  log.classList.toggle('slower', ok === 'slower');
  log.hidden = false;
}

/**
 * Compiler messages of the edited file: compileCheck reports each at `kernels/FILE.wgsl:LINE:COL`
 * of the source as written (the preprocessor's line map), the edited file or a prelude. The same
 * message from several variants is shown once, with the variants listed.
 */
class SourceMessages {
  private byKey = new Map<string, { head: string; snippet: string; variants: string[] }>();
  firstLine = 0;
  /** 1-based lines of the edited file that messages point at, each once (several variants report the same line). */
  atLines: number[] = [];

  constructor(
    private readonly kernel: string,
    source: string,
    /** The shipped source: a binding the edit added or changed is found by comparing with it. */
    private readonly shipped = '',
    private readonly src = source.split('\n'),
  ) {}

  /**
   * The 1-based line of the edited file that a pipeline-creation error about a binding is about (the device
   * reports it at `fn main`, which says nothing of which binding): the binding the message names
   * (`binding N`), else the first `@binding` declaration that the shipped source does not have (added, or
   * its type or access changed). 0 when none is found.
   */
  private bindingLine(text: string): number {
    if (!/binding/i.test(text)) return 0;
    const decl = /^\s*@group\((\d+)\)\s*@binding\((\d+)\)/;
    const named = /binding[^\d]{0,3}(\d+)/i.exec(text.replace(/BindGroupLayout[^\]]*\]/g, ''));
    if (named) {
      const k = this.src.findIndex((l) => decl.exec(l)?.[2] === named[1]);
      if (k >= 0) return k + 1;
    }
    const shipped = new Set(this.shipped.split('\n').filter((l) => decl.test(l)).map((l) => l.replace(/\/\/.*$/, '').replace(/\s+/g, ' ').trim()));
    const k = this.src.findIndex((l) => decl.test(l) && !shipped.has(l.replace(/\/\/.*$/, '').replace(/\s+/g, ' ').trim()));
    return k + 1;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** `message` as compileCheck words it; `variant`: the variant key it came from. */
  add(message: string, variant = ''): void {
    // FILE:LINE:COL from the compiler; FILE:LINE (no column) from the preprocessor (text after #endif, an undeclared flag)
    const m = /^kernels\/(\S+)\.wgsl:(\d+)(?::(\d+))?: ([\s\S]*)$/.exec(message);
    if (!m) {
      this.put(message, message, '', variant);
      return;
    }
    const [, file, lineS, colS] = m;
    let text = m[4]!;
    // a binding the device refused is reported at `fn main`: pointed at the binding's declaration instead
    const atBinding = file === this.kernel && /pipeline creation failed/.test(text) ? this.bindingLine(text) : 0;
    const line = atBinding || Number(lineS);
    // "Binding doesn't exist in [BindGroupLayout "layout(uniform,read,…,rw)"]": say what the layout binds
    const entries = /layout\(([^)]*)\)/.exec(text)?.[1]?.split(',').length;
    if (atBinding && entries && /doesn't exist/i.test(text)) text = `${text} — ${this.kernel}'s op binds @group(0) @binding(0) to @binding(${entries - 1}) only: a binding outside them has no buffer`;
    const col = atBinding ? 1 : Math.max(1, Number(colS ?? 1));
    const where = `kernels/${file}.wgsl:${line}${colS === undefined ? '' : `:${col}`}`;
    let snippet = '';
    if (file === this.kernel) {
      snippet = `    ${this.src[line - 1] ?? ''}\n    ${' '.repeat(col - 1)}^`;
      if (!this.firstLine) this.firstLine = line;
      if (!this.atLines.includes(line)) this.atLines.push(line);
    } else {
      let at = '';
      try {
        at = kernelSource(file!).split('\n')[line - 1] ?? '';
      } catch {
        /* not a kernel source: no snippet */
      }
      snippet = `    ${at.trim()}   (a prelude of ${this.kernel}, not this file)`;
    }
    this.put(`${where}|${text}`, `${where}: ${text}`, snippet, variant);
  }

  private put(key: string, head: string, snippet: string, variant: string): void {
    const e = this.byKey.get(key);
    if (e) {
      if (variant && !e.variants.includes(variant)) e.variants.push(variant);
    } else this.byKey.set(key, { head, snippet, variants: variant ? [variant] : [] });
  }

  lines(): string[] {
    return [...this.byKey.values()].map((e) => e.head);
  }

  text(): string {
    return [...this.byKey.values()].map((e) => `${e.head}${e.variants.length ? `   [${e.variants.join(', ')}]` : ''}${e.snippet ? `\n${e.snippet}` : ''}`).join('\n');
  }
}

/** Put the caret on (and scroll to) a 1-based line of a textarea. */
function selectLine(ta: HTMLTextAreaElement, line: number): void {
  const lines = ta.value.split('\n');
  const start = lines.slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0);
  ta.focus();
  ta.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  const lh = parseFloat(getComputedStyle(ta).lineHeight) || 16;
  ta.scrollTop = Math.max(0, (line - 6) * lh);
}

const cat = (a: Float32Array, b: Float32Array): Float32Array => {
  const o = new Float32Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
};

/**
 * An edit check over a run (checkEdit): the dispatches of the kernel in the run (`inRun`), and per stage where the
 * replay compared fewer than the run dispatched (`notRerun`: those were not re-run, so not compared).
 */
export interface RunEditCheck extends EditCheck {
  inRun: number;
  notRerun: { where: string; dispatches: number }[];
  /** With a re-time: each replayed dispatch's times, `where` its stage (as notRerun names them). */
  timed?: DispatchTiming[];
}

/** The check's outcome when the edit is within tolerance (the log line under before → after): how many of the run's dispatches were compared. */
function checkedText(c: RunEditCheck): string {
  const missed = c.notRerun.length ? `; not re-run, so not compared: ${c.notRerun.map((m) => `${m.dispatches} in the ${m.where}`).join(', ')}` : '';
  const unknown = c.unchecked ? `; ${c.unchecked} without a known output not compared` : '';
  if (!c.checked) return `not checked: no dispatch of ${c.kernel} with a known output was re-run (the run has ${c.inRun})${missed}`;
  const which = c.checked === c.inRun ? `all ${c.checked} dispatches` : `${c.checked} of the run's ${c.inRun} dispatches`;
  return `checked: ${which} of ${c.kernel} match the shipped kernel's output on the same inputs within the ${c.row} tolerance (BENCH_TOL)${unknown}${missed}`;
}

/**
 * Replays every dispatch of kernel file `name` in the last run's plans with the `edited` source and the
 * `shipped` one on the same inputs (EditChecker): the preset's step plan and its decode; a prompt run's
 * text encode, denoising step and decode — each only when the run dispatched the kernel there.
 */
async function checkEdit(name: string, shipped: string, edited: string, retime?: Retime): Promise<RunEditCheck> {
  const checker = new EditChecker(gpu!, name, shipped, edited, retime);
  const count = (r: ProfileRun | null, from = 0, to = Infinity) => (r?.dispatches ?? []).slice(from, to).filter((d) => kernelFile(d.kernel) === name).length;
  const uses = (r: ProfileRun | null, from = 0, to = Infinity) => count(r, from, to) > 0;
  // per stage: the run's dispatches of the kernel there, and how many the replay compared (checked + unchecked)
  const stages: { where: string; inRun: number; compared: number }[] = [];
  let seen = 0;
  const timed: DispatchTiming[] = [];
  const stage = (where: string, inRun: number) => {
    const c = checker.result();
    const now = c.checked + c.unchecked;
    if (inRun) stages.push({ where, inRun, compared: now - seen });
    seen = now;
    for (const t of (c.timed ?? []).slice(timed.length)) timed.push({ ...t, where });
  };
  const result = (): RunEditCheck => ({
    ...checker.result(),
    ...(retime ? { timed } : {}),
    inRun: stages.reduce((a, x) => a + x.inRun, 0),
    notRerun: stages.filter((x) => x.compared < x.inRun).map((x) => ({ where: x.where, dispatches: x.inRun - x.compared })),
  });
  // each recorded plan of a stage is checked, then run as the stage runs it (its buffers were put back)
  const runPlan = async (p: Plan, where: string) => {
    await checker.plan(p);
    await p.run(where);
  };
  if (mode === 'preset') {
    if (plan) await checker.plan(plan);
    stage('transformer step', count(run));
    if (uses(decodeRun) && lastLatents) await vae!.decode(lastLatents, { runPlan });
    stage('VAE decode', count(decodeRun));
    return result();
  }
  const p = pipe!;
  const inStageCount = (st: string) => {
    const r = stageRanges?.find((x) => x.stage === st);
    return r ? count(run, r.from, r.to) : 0;
  };
  const inStage = (st: string) => inStageCount(st) > 0;
  // the encode as profilePipeline makes it (max_sequence_length: Pipeline.generate's default, 512): the prompt,
  // then with CFG the negative prompt "" (its dispatches are in the run's text encoder stage too)
  const encodeWith = inStage('text_encoder') ? { runPlan } : {};
  const text = await p.textEncoder!.encodePrompt([promptJob!.prompt], { max_sequence_length: 512, ...encodeWith });
  if (inStage('text_encoder') && EMBEDDED_DEFAULTS.guidance_scale > 1) await p.textEncoder!.encodePrompt([''], { max_sequence_length: 512, runPlan });
  stage('text encoder', inStageCount('text_encoder'));
  if (inStage('transformer') && lastLatents) {
    const cfg = EMBEDDED_DEFAULTS.guidance_scale > 1;
    const lat = lastLatents;
    await p.transformer.exclusive(async () => {
      const step = p.transformer.planFor({
        hidden_states: cfg ? { data: cat(lat.data, lat.data), shape: [2 * lat.shape[0]!, ...lat.shape.slice(1)] } : lat,
        timestep: new Array((cfg ? 2 : 1) * lat.shape[0]!).fill(lastTimestep),
        encoder_hidden_states: cfg ? { data: cat(text.data, text.data), shape: [2 * text.shape[0]!, ...text.shape.slice(1)] } : text,
      });
      await checker.plan(step);
    });
  }
  stage('denoising step', inStageCount('transformer'));
  if (inStage('vae') && lastLatents) await p.vae!.decode(lastLatents, { runPlan });
  stage('VAE decode', inStageCount('vae'));
  return result();
}

/** What compileEdit leaves for the run or re-time that follows. */
interface CompiledEdit {
  variants: VariantSel[];
  /** `override` defaults of the source before the edit. */
  was: Map<string, string>;
  /** Edited `override` defaults that every dispatch sets itself (the edit changes nothing that runs). */
  ignored: [string, string][];
  warnings: SourceMessages;
}

/**
 * Compile-checks `text` as kernel `name` in every variant the last run uses and, when it compiles, leaves it in
 * the registry (setKernelSource). On a compile error or a feature the adapter lacks: says so (log, caret,
 * status), puts `before` back and returns null.
 */
async function compileEdit(name: string, text: string, before: string): Promise<CompiledEdit | null> {
  const spec = kernelRegistry.get(name)!;
  const lacks = lackedRequires(spec);
  if (lacks.length) {
    info.lastCompile = { kernel: name, ok: false, errors: [`${name} needs ${lacks.join(' and ')}, which this adapter lacks`] };
    showCompileLog(`not compiled: ${name} needs ${lacks.join(' and ')}, which this adapter lacks; it cannot be compiled or run here.`, false, name);
    $('compile-status').textContent = 'not available here';
    setState('done', `${name} cannot run on this adapter; nothing changed`, true);
    return null;
  }
  setState('running', `compiling ${name}…`);
  $('compile-status').textContent = 'compiling…';
  setKernelSource(name, text);
  const errors = new SourceMessages(name, text, originals.get(name));
  const warnings = new SourceMessages(name, text, originals.get(name));
  const variants = variantsUsed(name);
  // `override` defaults only matter where the op leaves the constant unset
  const was = overrideDefaults(before);
  const changed = [...overrideDefaults(text)].filter(([k, v]) => was.has(k) && was.get(k) !== v);
  const ignored = changed.filter(([k]) => variants.every((v) => k in v.overrides));
  for (const [k, v] of variants.entries()) {
    // a Ctrl+Enter answered meanwhile ("a run is in progress") stays readable until the run ends
    const status = $('compile-status');
    if (variants.length > 1 && status.textContent !== RECOMPILE_IN_PROGRESS) status.textContent = `compiling variant ${k + 1} of ${variants.length}…`;
    try {
      const r = await compileCheck(gpu!, spec, v);
      for (const m of r.errors) errors.add(m, r.key);
      for (const m of r.warnings) warnings.add(m, r.key);
    } catch (e) {
      errors.add((e as Error).message); // preprocessor errors (#if of an undeclared flag, …)
    }
  }
  if (errors.size) {
    setKernelSource(name, before === originals.get(name) ? null : before);
    const list = errors.lines();
    info.lastCompile = { kernel: name, ok: false, errors: list, errorLines: errors.atLines };
    showCompileLog(`compile failed — the previous source stays in use:\n${errors.text()}`, false, name);
    $('compile-status').textContent = `${list.length} error(s)`;
    if (errors.firstLine) selectLine($('source') as HTMLTextAreaElement, errors.firstLine);
    setState('done', `compile error in ${name}; nothing changed`, true);
    return null;
  }
  return { variants, was, ignored, warnings };
}

/** The lines saying an `override` default was edited that every dispatch sets itself. */
function ignoredNotes(name: string, c: CompiledEdit): string[] {
  return c.ignored.map(
    ([k, v]) =>
      `override ${k}: the default is now ${v} (was ${c.was.get(k)}), but every dispatch of ${name} sets ${k} itself (${c.variants.map((x) => `${k}=${x.overrides[k]}`).join(', ')}): ` +
      `this edit changes nothing that runs. The op chooses ${k} (src/ops/); change it there, or remove it from the variant.`,
  );
}

/** Apply the textarea to the selected kernel: compile-check every variant used, then re-run and re-time. */
async function recompile(): Promise<void> {
  const name = selected;
  const text = ($('source') as HTMLTextAreaElement).value;
  const before = kernelSource(name);
  const timeBefore = kernelTime(run, name);
  // the re-run repeats the settings of the run whose timings are `timeBefore`
  const compared = `run ${info.runs} (${settingsText(mode === 'prompt' ? promptJob : job)})`;
  const compiled = await compileEdit(name, text, before);
  if (!compiled) return;
  const { variants, ignored, warnings } = compiled;
  if (!(mode === 'prompt' ? promptJob : job)) {
    // no completed run to repeat (autorun=0, or the first run failed): the next run compiles the new source
    invalidateKernel(gpu!, name);
    info.lastCompile = { kernel: name, ok: true, errors: [], ignoredOverrides: ignored.map(([k]) => k), before: null, after: null, check: null };
    showCompileLog(`compiled ${variants.length} variant(s); nothing re-run: there is no run yet to repeat. The next run uses the edited ${name}; Recompile after that run checks it against the shipped kernel and times it.`, true, name);
    $('compile-status').textContent = 'ok — not run yet';
    markEdited();
    fillKernelList();
    setState('done', `compiled ${name}; the next run uses it`);
    return;
  }
  try {
    await rerun(name);
  } catch (e) {
    // compiled, but failed at dispatch (bindings changed, device error), or stopped: roll back
    setKernelSource(name, before === originals.get(name) ? null : before);
    invalidateKernel(gpu!, name);
    resetPlans();
    if (isStop(e)) {
      showCompileLog(`stopped before the re-run ended — rolled back: the previous source of ${name} stays in use (the edit is still in the editor)`, false, name);
      $('compile-status').textContent = 'stopped — rolled back';
      throw e;
    }
    const msg = (e as Error).message;
    info.lastCompile = { kernel: name, ok: false, errors: [msg] };
    showCompileLog(`compiled, but running it failed — rolled back:\n${msg}`, false, name);
    await rerun(name);
    setState('done', `run error in ${name}; rolled back`, true);
    return;
  }
  // a time is only worth showing for a kernel that still computes what the shipped one does
  let check: RunEditCheck | null = null;
  let wrong: string | null = null;
  const shipped = originals.get(name) ?? text;
  if (text !== shipped) {
    setState('running', `checking the edited ${name} against the shipped kernel on the run's inputs…`);
    try {
      check = await checkEdit(name, shipped, text);
      wrong = wrongText(check);
    } catch (e) {
      wrong = `the output could not be checked against the shipped kernel (${(e as Error).message}). No before → after time is reported for an unchecked kernel.`;
    }
  }
  const timeAfter = kernelTime(run, name);
  if (wrong) wrongEdits.add(name);
  else wrongEdits.delete(name);
  // a slower verdict is not shown in the "ok" green (the edit is right, but it is not an improvement)
  const slower = !wrong && !!timeBefore && !!timeAfter && Math.min(timeBefore.repeats, timeAfter.repeats) >= 2 && timeAfter.lo > timeBefore.hi;
  info.lastCompile = { kernel: name, ok: true, errors: [], ignoredOverrides: ignored.map(([k]) => k), before: wrong ? null : timeBefore, after: wrong ? null : timeAfter, check, ...(wrong ? { wrong } : {}) };
  const ignoredNote = ignoredNotes(name, compiled);
  showCompileLog([`compiled ${variants.length} variant(s); re-generated and re-timed with the settings of ${compared}, not what the fields hold now.`, wrong ?? beforeAfter(name, timeBefore, timeAfter, mode === 'prompt' ? 'per run (its dispatches in the text encoder, one denoising step and the VAE decode)' : 'per step'), ...(check && !wrong ? [checkedText(check)] : []), ...ignoredNote, ...(warnings.size ? [`warnings:\n${warnings.text()}`] : [])].join('\n'), wrong ? false : slower ? 'slower' : true, name);
  $('compile-status').textContent = wrong ? `wrong result — run ${info.runs}` : slower ? `correct, but slower — run ${info.runs}` : `ok — run ${info.runs}`;
  markEdited();
  fillKernelList();
  setState('done', wrong ? `recompiled ${name}: its output is WRONG (see the compile log), no time reported (run ${info.runs})` : `recompiled ${name}; re-timed (run ${info.runs})`, !!wrong);
}

/** Rounds of a re-time (interleaved before/after; at least 5, so that even `repeats=1` gets a spread). */
const RETIME_ROUNDS = Math.max(REPEATS, 5);

/**
 * Kernels whose table rows hold re-timed (replayed) times instead of the run's: each row's dispatch with the time
 * the run gave it, put back by a revert to the source the run used; forgotten when a new run is drawn.
 */
const retimedRows = new Map<string, { d: ProfiledDispatch; ms: number | null; samples: number[] }[]>();

/**
 * The last run's dispatches of kernel file `name`, per stage as checkEdit names them ('transformer step', 'text
 * encoder', 'denoising step', 'VAE decode'), in order; each with its copy in `decodeRun` where a prompt run's
 * joined profile holds the VAE's dispatches as other objects.
 */
function runDispatchesOf(name: string): Map<string, ProfiledDispatch[][]> {
  const of = (r: ProfileRun | null, from = 0, to = Infinity) =>
    (r?.dispatches ?? []).map((d, i) => ({ d, i })).slice(from, to).filter(({ d }) => kernelFile(d.kernel) === name);
  const m = new Map<string, ProfiledDispatch[][]>();
  if (mode === 'preset') {
    m.set('transformer step', of(run).map(({ d }) => [d]));
    m.set('VAE decode', of(decodeRun).map(({ d }) => [d]));
    return m;
  }
  const words: Record<string, string> = { text_encoder: 'text encoder', transformer: 'denoising step', vae: 'VAE decode' };
  for (const r of stageRanges ?? []) {
    m.set(words[r.stage] ?? r.stage, of(run, r.from, r.to).map(({ d, i }) => {
      const copy = r.stage === 'vae' ? decodeRun?.dispatches[i - r.from] : undefined;
      return copy && copy !== d ? [d, copy] : [d];
    }));
  }
  return m;
}

/**
 * Re-time only: compile the edit, then replay the kernel's dispatches of the last run (checkEdit with a
 * Retime: the previous source and the edit interleaved over RETIME_ROUNDS rounds on the recorded inputs, the
 * outputs checked as Recompile checks them) without re-rendering the clip. The tables' rows of the kernel take
 * the edit's replayed times; the clip, the timeline and the trace stay the run's. The edit stays compiled: the
 * next run uses it. Refused in one line when there is no run or the run has no dispatch of the kernel.
 */
async function retimeOnly(): Promise<void> {
  const name = selected;
  const text = ($('source') as HTMLTextAreaElement).value;
  const runNo = run && (mode === 'prompt' ? promptJob : job) ? info.runs : 0;
  const inRun = [...(run?.dispatches ?? []), ...(stageRanges === null ? (decodeRun?.dispatches ?? []) : [])].filter((d) => kernelFile(d.kernel) === name).length;
  const refusal = retimeRefusal(name, { run: runNo, dispatches: inRun });
  if (refusal) {
    info.lastRetime = { kernel: name, run: runNo, refused: refusal };
    showCompileLog(refusal, false, name);
    $('compile-status').textContent = 'not re-timed';
    setState('done', refusal, true);
    return;
  }
  const before = kernelSource(name);
  const compiled = await compileEdit(name, text, before);
  if (!compiled) return;
  const wallBox = (mode === 'prompt' ? promptJob : job)!.wallClock;
  const timestamps = gpu!.timestamps && !wallBox;
  const why = timestamps ? undefined : wallBox ? 'the run was timed by the wall clock: the box above the timeline' : 'the adapter lacks timestamp-query';
  setState('running', `re-timing ${name}: replaying run ${runNo}'s ${inRun} dispatches of it with the previous source and the edit (no new clip)…`);
  $('compile-status').textContent = 're-timing…';
  const shipped = originals.get(name) ?? text;
  let check: RunEditCheck;
  try {
    check = await checkEdit(name, shipped, text, { before, rounds: RETIME_ROUNDS, timestamps, ...(stopper ? { signal: stopper.signal } : {}) });
  } catch (e) {
    setKernelSource(name, before === originals.get(name) ? null : before);
    if (isStop(e)) {
      showCompileLog(`re-time stopped — the previous source of ${name} stays in use (the edit is still in the editor); the table is unchanged`, false, name);
      $('compile-status').textContent = 'stopped — not re-timed';
      throw e;
    }
    const msg = `re-time failed — the previous source stays in use: ${(e as Error).message}`;
    info.lastRetime = { kernel: name, run: runNo, refused: msg };
    showCompileLog(msg, false, name);
    $('compile-status').textContent = 'not re-timed';
    setState('done', `re-time of ${name} failed; nothing changed`, true);
    return;
  }
  // pipelines made from now on compile the edit; the next run drops the recorded plans (fullRun, promptRun)
  invalidateKernel(gpu!, name);
  const timing = timestamps ? 'gpu-timestamps' : 'wall-clock';
  const head = `compiled ${compiled.variants.length} variant(s); the clip was NOT re-rendered (still run ${runNo}'s, made with the previous source); the next run uses the edit.`;
  const wrong = text !== shipped ? wrongText(check) : null;
  const timed = check.timed ?? [];
  if (wrong || !timed.length) {
    const why2 = wrong ?? `Not re-timed: none of run ${runNo}'s ${inRun} dispatches of ${name} could be replayed (${check.notRerun.map((m) => `${m.dispatches} in the ${m.where}`).join(', ')}).`;
    if (wrong) wrongEdits.add(name);
    info.lastRetime = { kernel: name, run: runNo, timing, check, ...(wrong ? { wrong } : { refused: why2 }) };
    info.lastCompile = { kernel: name, ok: true, errors: [], before: null, after: null, check, ...(wrong ? { wrong } : {}) };
    showCompileLog([head, why2].join('\n'), false, name);
    $('compile-status').textContent = wrong ? `wrong result — re-timed only (run ${runNo}'s clip)` : 'not re-timed';
    markEdited();
    fillKernelList();
    setState('done', wrong ? `re-timed ${name}: its output is WRONG (see the compile log), no time reported; the clip was not re-rendered` : why2, true);
    return;
  }
  wrongEdits.delete(name);
  const summary = retimeSummary(timed);
  // the tables' rows of the kernel: the edit's replayed times, where the replay's dispatches are the run's, one for one
  const saved = retimedRows.get(name) ?? [];
  const firstTime = !retimedRows.has(name);
  let updated = 0;
  const kept: string[] = [];
  for (const [where, targets] of runDispatchesOf(name)) {
    const ts = timed.filter((t) => t.where === where);
    if (!targets.length) continue;
    if (ts.length !== targets.length) {
      kept.push(`${targets.length} in the ${where} (the replay's dispatches are not the run's one for one)`);
      continue;
    }
    // a run timed by the wall clock per stage has no per-dispatch times: its rows stay without any
    if (targets.every((copies) => copies[0]!.ms === null)) {
      kept.push(`${targets.length} in the ${where} (the run has no per-dispatch times there)`);
      continue;
    }
    targets.forEach((copies, k) => {
      for (const d of copies) {
        if (firstTime) saved.push({ d, ms: d.ms, samples: d.samples });
        d.samples = [...ts[k]!.after];
        d.ms = median(ts[k]!.after);
      }
    });
    updated += ts.length;
  }
  if (saved.length) retimedRows.set(name, saved);
  if (run) drawTable(run);
  if (decodeRun) drawTable(decodeRun, 'vae-kernels');
  const note = $('retime-note');
  note.textContent =
    (retimedRows.size ? `Re-timed only: the rows of ${[...retimedRows.keys()].join(', ')} hold the edit's times from a replay of their dispatches (median of ${RETIME_ROUNDS} rounds); ` : `Re-timed only (${name}): `) +
    `the clip, the timeline, the per-step table and the trace are still run ${runNo}'s — not re-rendered. "Recompile & re-time" re-renders the clip.` +
    (kept.length ? ` Rows of ${name} not updated: ${kept.join('; ')}.` : '');
  note.hidden = false;
  info.lastRetime = { kernel: name, run: runNo, timing, summary, check, rowsUpdated: updated };
  info.lastCompile = { kernel: name, ok: true, errors: [], ignoredOverrides: compiled.ignored.map(([k]) => k), before: summary.total.before, after: summary.total.after, check };
  const lines = retimeText(name, summary, { run: runNo, timing, ...(why ? { why } : {}) });
  showCompileLog([head, ...lines, checkedText(check), ...ignoredNotes(name, compiled), ...(compiled.warnings.size ? [`warnings:\n${compiled.warnings.text()}`] : [])].join('\n'), summary.slower ? 'slower' : true, name);
  $('compile-status').textContent = `${summary.slower ? 'correct, but slower' : 'ok'} — re-timed only (run ${runNo}'s clip)`;
  markEdited();
  fillKernelList();
  setState('done', `re-timed ${name} by replay, no new clip: ${summary.verdict}`);
}

/** Puts back the run's own times in the table rows a re-time of `name` changed (a revert to the run's source); true when there were any. */
function restoreRetimedRows(name: string): boolean {
  const rows = retimedRows.get(name);
  if (!rows) return false;
  for (const r of rows) {
    r.d.ms = r.ms;
    r.d.samples = r.samples;
  }
  retimedRows.delete(name);
  if (run) drawTable(run);
  if (decodeRun) drawTable(decodeRun, 'vae-kernels');
  $('retime-note').hidden = !retimedRows.size;
  if (!retimedRows.size) $('retime-note').textContent = '';
  return true;
}

/**
 * Restores the shipped source of the selected kernel. Re-runs only when the last run used another
 * source of it (an edit that compiled and ran): a draft or a failed compile never ran, so the
 * timings and the clip on the page are already the shipped kernel's.
 */
async function revert(): Promise<void> {
  const name = selected;
  const ran = ranSources.get(name);
  setKernelSource(name, null);
  wrongEdits.delete(name);
  ($('source') as HTMLTextAreaElement).value = kernelSource(name);
  info.lastCompile = null;
  $('compile-log').hidden = true;
  $('compile-status').textContent = '';
  markEdited();
  if (run && ran !== undefined && ran !== kernelSource(name)) {
    await rerun(name);
    fillKernelList();
    setState('done', `reverted ${name}; re-timed (run ${info.runs})`);
    return;
  }
  // a re-time only (no run) of an edit: the tables' rows go back to the run's times of the shipped source
  const rows = restoreRetimedRows(name);
  fillKernelList();
  setState('done', run ? `reverted ${name}; nothing re-run: the last run (run ${info.runs}) already used the shipped source${rows ? `, and the table rows of ${name} show its times again` : ''}` : `reverted ${name}`);
}

/** Each kernel's source as the last completed run used it (revert re-runs only when it differs). */
let ranSources = new Map<string, string>();
function noteRunSources(): void {
  ranSources = new Map([...kernelRegistry.keys()].map((n) => [n, kernelSource(n)]));
}

/**
 * New pipelines for kernel `name` (edited or reverted): drop its cached pipelines and the recorded plans,
 * regenerate and re-profile. `name` is the kernel the recompile or revert was pressed for: the user may
 * open another kernel while it runs.
 */
async function rerun(name: string): Promise<void> {
  invalidateKernel(gpu!, name);
  resetPlans();
  setState('running', `regenerating with the new kernel (${settingsText(mode === 'prompt' ? promptJob : job)})…`);
  // the settings of the run whose timings are compared, not what the fields hold now
  if (mode === 'prompt') {
    if (!promptJob) throw new Error('no prompt run to repeat yet: press "Generate from prompt" first');
    await promptClip(promptJob);
  } else {
    if (!job) throw new Error('no preset run to repeat yet: press "Generate & profile" first');
    const unwatch = watchRun('generate');
    try {
      await generateClip(model!, job);
      await profileStep(model!, job);
    } finally {
      unwatch();
    }
  }
  showVariantSource();
}

/** A run's settings in words (the re-run note, the status line). */
function settingsText(j: Job | PromptJob | null): string {
  if (!j) return 'no run yet';
  const timing = j.wallClock ? ', wall-clock timing' : '';
  if ('prompt' in j) return `"${j.prompt}", ${j.steps} step${j.steps === 1 ? '' : 's'}, seed ${j.seed}${timing}`;
  return `${j.preset}, latents ${latentStr(j.latent)}, ${j.steps} step${j.steps === 1 ? '' : 's'}, guidance ${j.guidance}, seed ${j.seed}${timing}`;
}

/** After a completed run: what a kernel-edit re-run will repeat, on the page and in PageInfo. */
function noteRunSettings(): void {
  noteRunSources();
  // a new run's tables: no re-timed rows
  retimedRows.clear();
  $('retime-note').hidden = true;
  $('retime-note').textContent = '';
  const j = mode === 'prompt' ? promptJob : job;
  info.runSettings = !j ? null : mode === 'prompt' ? { mode: 'prompt', ...(j as PromptJob) } : { mode: 'preset', ...(j as Job) };
  $('rerun-note').textContent = j ? `Recompile and Revert re-run run ${info.runs}'s settings (${settingsText(j)}), not what the fields above hold now, so before → after compare the same work.` : '';
}

// ---------------------------------------------------------------- prompt → clip (trained pipeline)

/**
 * Where prompt runs take their pipeline from: the tessera-shapes folder served with the page (the default), a
 * folder URL (`?model=URL`, the "folder URL" field), or a folder picked on this computer.
 */
type ModelChoice = { kind: 'served' } | { kind: 'url'; url: string } | { kind: 'picked'; name: string; files: Map<string, File> };
let modelChoice: ModelChoice = params.has('model') ? { kind: 'url', url: params.get('model')! } : { kind: 'served' };
/** The choice `pipe` was loaded from. */
let pipeChoice: ModelChoice | null = null;
const SERVED = 'models/tessera-shapes/';
/** What the prompt box says of the served pipeline (restored when it is chosen again). */
let servedAbout: string | null = null;

/** A model choice in words (the model box's summary, PageInfo.model). */
function choiceText(c: ModelChoice): string {
  return c.kind === 'served' ? 'tessera-shapes, served with this page' : c.kind === 'url' ? c.url : `${c.name} (picked: ${c.files.size} files)`;
}

/**
 * The folder of a model choice: a URL's files.json (as the served folder has: the loaders' probes for files that
 * are not there are answered from it instead of HTTP 404s) when there is one, else the bare URL; a picked folder's
 * files by their path under the folder picked.
 */
async function choiceFolder(c: ModelChoice) {
  if (c.kind === 'picked') return mapFolder(c.name, new Map([...c.files].map(([k, f]) => [k, f as Blob])));
  const raw = c.kind === 'served' ? SERVED : c.url;
  const base = new URL(raw.endsWith('/') ? raw : `${raw}/`, location.href).href;
  const res = await fetch(`${base}files.json`).catch(() => null);
  if (c.kind === 'served' && !res?.ok) throw new Error(`${base}files.json: ${res ? `HTTP ${res.status}` : 'not reachable'} — the page is served without the tessera-shapes pipeline (build it with npm run build:demo)`);
  return httpFolder(base, res?.ok ? { files: (await res.json()) as string[] } : {});
}

/** A model folder (URL or picked) that did not load: its one line is under the model box (guarded shows no other). */
class ModelNotLoadedError extends Error {
  override name = 'ModelNotLoadedError';
}

/**
 * loadPipeline's refusal of a folder in the page's terms: a folder without model_index.json says so and what to
 * give instead (the library's advice, "use loadModel", is for a script: the page loads pipeline folders only).
 */

async function ensurePipeline(): Promise<Pipeline> {
  const c = modelChoice;
  if (pipe && pipeChoice === c) return pipe;
  setState('running', `loading ${c.kind === 'served' ? 'the tessera-shapes pipeline (weights served with this page)' : choiceText(c)}…`);
  await sleepFrame();
  let next: Pipeline;
  try {
    next = await loadPipeline(await choiceFolder(c), { gpu: gpu!, signal: stopper?.signal, onProgress: (comp, done, total) => showProgress(`loading ${comp}: ${done}/${total}`) });
  } catch (e) {
    showProgress('');
    if (isStop(e)) {
      // stopped, not refused: no line under the model box; the pipeline loaded before stays in use
      modelChoice = pipeChoice ?? { kind: 'served' };
      throw e;
    }
    if (c.kind !== 'served') {
      // one line under the model box naming the folder, and nowhere else; the pipeline loaded before stays in use
      const el = $('model-error');
      el.textContent = `Not loaded: ${choiceText(c)}: ${folderWords((e as Error).message, c.kind === 'url' ? 'url' : 'picked')}`;
      el.hidden = false;
      info.modelError = el.textContent;
      modelChoice = pipeChoice ?? { kind: 'served' };
      console.error(e);
      throw new ModelNotLoadedError(el.textContent, { cause: e });
    }
    throw e;
  }
  showProgress('');
  $('model-error').hidden = true;
  info.modelError = null;
  pipe?.dispose();
  pipe = next;
  pipeChoice = c;
  info.model = choiceText(c);
  $('model-name').textContent = choiceText(c);
  servedAbout ??= $('prompt-about').textContent;
  $('prompt-about').textContent = c.kind === 'served' ? servedAbout : `— ${next.name} (${next.className}), loaded from ${choiceText(c)}`;
  rememberRun({ model: c.kind === 'url' ? c.url : null });
  return pipe;
}

async function promptRun(): Promise<void> {
  // read once, now: the fields may change while the pipeline loads (a minute on a CPU adapter)
  const problems: string[] = [];
  const { steps, seed } = readPromptInputs(problems);
  if (!inputsValid('prompt', problems)) return; // the inline message says which value; nothing runs
  const pj: PromptJob = { prompt: ($('prompt') as HTMLInputElement).value, steps, seed, wallClock: wallClockTiming() };
  rememberRun({ prompt: pj.prompt, steps: String(steps), seed: String(seed), timing: pj.wallClock ? 'wall' : null, preset: null, latent: null, guidance: null });
  // the mode, its captions and notes change when this run's results are drawn (promptClip), not now: a load
  // that fails leaves the results on the page, and what they say of them, as they were
  await ensurePipeline();
  pipe!.resetPlans(); // a kernel may have been edited in a preset run
  await promptClip(pj);
  $('adapter').textContent = adapterText(pipe!.transformer.describe());
  setState('done', `done: "${info.prompt}", ${run!.dispatches.length} dispatches profiled over 3 stages (${run!.timing})`);
}

/** Generates `pj`'s clip through the whole pipeline, every stage profiled, and shows clip, timeline and tables. */
async function promptClip(pj: PromptJob): Promise<void> {
  const p = pipe!;
  const { prompt, steps, seed } = pj;
  info.prompt = prompt;
  // the vocabulary is tessera-shapes' (the served folder): another model's is not known here
  const note = pipeChoice?.kind === 'served' ? (vocabularyNote(prompt) ?? null) : null;
  info.vocabNote = note;
  $('vocab-note').textContent = note ?? '';
  $('vocab-note').hidden = !note;
  setState('running', `encoding "${prompt}"…`);
  await sleepFrame();
  const unwatch = watchRun('text_encoder');
  const prof = await profilePipeline(
    p,
    { prompt, seed, height: EMBEDDED_DEFAULTS.height, width: EMBEDDED_DEFAULTS.width, num_frames: EMBEDDED_DEFAULTS.num_frames, num_inference_steps: steps, guidance_scale: EMBEDDED_DEFAULTS.guidance_scale, signal: stopper?.signal, onStep: (s, n) => nextPhase(`denoising step ${s}/${n}…`) },
    {
      repeats: REPEATS,
      forceWallClock: pj.wallClock,
      // each denoising step of the loop timed dispatch by dispatch too: the "kernels per stage and step" table
      profileSteps: true,
      onStage: (st) => {
        workStage = st; // the kernel work from here on is this stage's (the first denoising step's time includes it)
        nextPhase(st === 'text_encoder' ? `encoding "${prompt}" with UMT5EncoderModel…` : st === 'transformer' ? 'denoising…' : 'decoding with AutoencoderKLWan…');
      },
    },
  ).finally(unwatch);
  // the replays after the loop take no signal: a Stop pressed during them stops here, nothing of this run drawn
  stopPoint('the prompt run, after its profile');
  const video = prof.output.video!;
  lastLatents = prof.output.latents;
  const ts = prof.output.timesteps;
  lastTimestep = ts[Math.floor(ts.length / 2)] ?? ts[0] ?? 500; // as profilePipeline's replayed step
  const fr = videoToFrames(video);
  info.decoded = true;
  info.frameSize = [fr.width, fr.height];
  showFrames(fr.frames, fr.width, fr.height);
  labelFrames('prompt');
  const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  $('frames-caption').textContent =
    `"${prompt}", seed ${seed}: ${fr.frames.length} frames ${fr.width}×${fr.height} from latents [${prof.output.latents.shape.join(',')}], ${steps} steps, CFG ${EMBEDDED_DEFAULTS.guidance_scale} — ` +
    prof.stages.map((s) => `${s.stage.replace('_', ' ')} ${secs(s.wallMs)}`).join(', ') + `, total ${secs(prof.totalMs)}`;
  // issue 12's judge on the clip, when the prompt is one of the training set's form
  const asked = parseShapesPrompt(prompt);
  if (asked) {
    const v = judgeVideo(video, [[asked.colour, asked.direction]])[0]!;
    info.judge = v;
    $('judge').textContent = `judge: ${verdictWords(v)}`; // as the demo prints it
    $('judge').hidden = false;
  } else {
    info.judge = null;
    $('judge').hidden = true;
  }
  const fps = 16;
  await showClip(fr, fps);

  // one timeline of all stages; the tables; the trace with one track per stage
  const joined = joinStages(prof.stages);
  run = joined.run;
  plan = null;
  stageRanges = joined.ranges;
  decodeRun = prof.stages.find((x) => x.stage === 'vae')!.run;
  info.runs++;
  info.timing = run.timing;
  info.dispatches = run.dispatches.length;
  info.decode = { dispatches: decodeRun.dispatches.length, totalMs: decodeRun.totalMs, timing: decodeRun.timing };
  info.coarseTimestamps = run.timing === 'gpu-timestamps' && looksCoarse(run);
  const tnote = $('timing-note');
  tnote.textContent = run.timing === 'wall-clock' ? `No GPU timestamps: ${run.note ?? 'wall clock'}. No per-dispatch times: the bars are the dispatches in order, one equal step each (the axis counts dispatches, not ms).` : '';
  tnote.hidden = run.timing !== 'wall-clock';
  if (pj !== promptJob) info.timelineView = null; // a new run shows all; a kernel edit's re-run keeps the zoom (before → after at the same place)
  $('timeline-title').textContent = 'Timeline of the whole pipeline: text encoder → one denoising step → VAE decode';
  drawTimeline(run);
  info.stages = prof.stages.map((st, i) => ({ stage: st.stage, name: st.name, wallMs: st.wallMs, dispatches: st.run.dispatches.length, bars: stageBars[i] ?? 0, ...(st.stepWallMs ? { stepWallMs: st.stepWallMs } : {}) }));
  $('timeline-caption').textContent = prof.stages.map((st) => `${st.name}: ${st.run.dispatches.length} dispatches (${workText(st.run)})`).join('; ') + ` — ${run.timing}; the transformer lane is one denoising step of ${prof.output.timesteps.length}` +
    (run.timing === 'gpu-timestamps' ? `; each bar is its dispatch's median (the transformer's over ${REPEATS} repeats, the text encoder's and the VAE's over ${Math.min(REPEATS, 3)} warm re-runs)` : '');
  drawTable(run);
  drawTable(decodeRun, 'vae-kernels');
  $('vae-caption').textContent = vaeCaption('AutoencoderKLWan', decodeRun);
  showTableNotes(promptTableNote(prof.stages, run.timing, pj.wallClock));
  showStepKernels(prof.stages);
  const trace = chromeTrace(stageRuns(prof.stages), TRACE_OPTIONS(run));
  publishTrace(trace);
  promptJob = pj;
  noteRunSettings();
  fillKernelList();
}

/** The "kernels per stage and denoising step" choices of the last prompt run (empty after a preset run). */
let stepChoices: { stage: string; label: string; run: ProfileRun }[] = [];

/**
 * A prompt run's dispatches stage by stage and step by step: the choices (text encoder, each denoising step of
 * the loop, VAE decode) and the table of the chosen one (the first step by default, or the same choice as before).
 */
function showStepKernels(stages: readonly StageProfile[]): void {
  stepChoices = stages.flatMap((st) =>
    st.stage !== 'transformer'
      ? [{ stage: st.stage, label: st.name, run: st.run }]
      : (st.stepRuns ?? []).map((r, i, all) => ({ stage: `step ${i + 1}`, label: `denoising step ${i + 1}/${all.length}`, run: r })),
  );
  info.stepKernels = stepChoices.map((c) => ({ stage: c.stage, label: c.label, dispatches: c.run.dispatches.length, timed: c.run.dispatches.filter((d) => d.ms !== null).length, totalMs: c.run.totalMs, timing: c.run.timing }));
  const pick = $('step-pick') as HTMLSelectElement;
  const was = pick.value;
  pick.replaceChildren(
    ...stepChoices.map((c) => {
      const o = document.createElement('option');
      o.value = c.stage;
      o.textContent = `${c.label}: ${c.run.dispatches.length} dispatches, ${fmt(c.run.totalMs)} ms ${c.run.timing === 'gpu-timestamps' ? 'GPU' : 'wall'}`;
      return o;
    }),
  );
  pick.value = stepChoices.some((c) => c.stage === was) ? was : (stepChoices.find((c) => c.stage === 'step 1') ?? stepChoices[0])?.stage ?? '';
  if (!pick.dataset.wired) {
    pick.dataset.wired = '1';
    pick.addEventListener('change', () => drawStepKernels(pick.value));
  }
  $('steps-section').hidden = stepChoices.length === 0;
  const steps = stepChoices.filter((c) => c.stage.startsWith('step ')).length;
  $('steps-caption').textContent = `run ${info.runs}: the text encoder, ${steps} denoising step${steps === 1 ? '' : 's'} timed as they ran, the VAE decode`;
  drawStepKernels(pick.value);
}

/** The table of one choice of showStepKernels: each dispatch (#, kernel, layer, ms); without per-dispatch times one line saying why instead. */
function drawStepKernels(stage: string): void {
  const c = stepChoices.find((x) => x.stage === stage);
  const tbody = ($('step-kernels') as HTMLTableElement).tBodies[0]!;
  const note = $('steps-note');
  const untimed = !c || c.run.timing !== 'gpu-timestamps';
  const why = !c ? 'no stage chosen' : `No per-dispatch times for ${c.label}: ${c.run.note ?? 'timed by the wall clock as a whole'}.`;
  info.stepKernelsNote = untimed ? why : null;
  note.textContent = untimed ? why : '';
  note.hidden = !untimed;
  ($('step-kernels') as HTMLTableElement).hidden = untimed;
  tbody.replaceChildren(
    ...(untimed ? [] : c.run.dispatches).map((d, i) => {
      const tr = document.createElement('tr');
      tr.dataset.kernel = d.kernel;
      for (const v of [String(i + 1), d.kernel, d.layer, fmt(d.ms)]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      return tr;
    }),
  );
  showTopRows('step-kernels');
  if (untimed) $('step-kernels-top').hidden = true;
}

/**
 * The note above a prompt run's per-kernel table. With GPU timestamps: what the transformer's rows are (one
 * denoising step replayed after the loop, medians over repeats; each step of the loop has its own table below)
 * and each step's wall time. Timed by the wall clock: why the tables have no per-dispatch times, each stage's wall time, and what
 * would give them.
 */
function promptTableNote(stages: readonly StageProfile[], timing: string, wallClock: boolean): { text: string; warn: boolean } {
  const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const tr = stages.find((st) => st.stage === 'transformer');
  const steps = tr?.stepWallMs ?? [];
  const rest = steps.slice(1);
  const loop = !steps.length
    ? ''
    : `the denoising loop by the wall clock: step 1 ${secs(steps[0]!)} (with recording the step${workWords(info.kernelWork.transformer) ? ` and ${workWords(info.kernelWork.transformer)}` : '; no kernel compiled or tuned in it: all were ready'})` +
      (rest.length ? `, step${rest.length > 1 ? `s 2–${steps.length} median` : ' 2'} ${secs(median(rest))}${rest.length > 1 ? ` (${secs(Math.min(...rest))}–${secs(Math.max(...rest))})` : ''}` : '');
  if (timing === 'gpu-timestamps') {
    return { text: `The transformer's rows are one denoising step, replayed after the loop and timed dispatch by dispatch (each step of the loop as it ran: "Kernels per stage and denoising step" below); ${loop || 'no step ran'}.`, warn: false };
  }
  const why = wallClock ? 'the "wall-clock timing" box was ticked when this run started (timing=wall in the address)' : `this adapter has no timestamp-query feature (features: ${info.features.join(', ') || 'none'})`;
  const fix = wallClock ? 'Untick the box and generate again for per-dispatch GPU times.' : 'A preset run (the box below the prompt) times each dispatch alone by the wall clock instead, submit overhead included.';
  return {
    text: `No per-dispatch times in this table or the VAE's (shown as —): ${why}, and a prompt run timed by the wall clock times each stage as a whole. ` +
      `Wall times: ${stages.map((st) => `${st.name} ${secs(st.wallMs)}`).join(', ')}${loop ? `; ${loop}` : ''}. ${fix}`,
    warn: true,
  };
}

/** Shows (or, null, hides) the note above the per-kernel table; a warning (no per-dispatch times) is pointed to from the VAE table too. */
function showTableNotes(note: { text: string; warn: boolean } | null): void {
  const el = $('table-note');
  el.textContent = note?.text ?? '';
  el.hidden = !note;
  el.className = note?.warn ? 'note' : 'muted';
  info.tableNote = note?.text ?? null;
  const vae = $('vae-note');
  vae.textContent = note?.warn ? 'No per-dispatch times in this table either: see the note above the per-kernel table.' : '';
  vae.hidden = !note?.warn;
}

/** After a kernel edit: the recorded plans of whatever the page runs are dropped (they hold the old pipelines). */
function resetPlans(): void {
  if (mode === 'prompt') pipe?.resetPlans();
  else model?.resetPlans();
}

async function fullRun(): Promise<void> {
  const j = readControls();
  if (!j) return; // invalid steps/guidance/seed: the inline message says which; nothing runs
  rememberRun({ preset: j.preset, latent: latentStr(j.latent), steps: String(j.steps), guidance: String(j.guidance), seed: String(j.seed), timing: j.wallClock ? 'wall' : null, prompt: null });
  // before any upload: a run that cannot fit the adapter or the budget is refused in one line (RunRefused)
  checkPresetFits(j, gpu!.limits, budget, gpu!.isCpu);
  // the mode, its captions and notes change when this run's results are drawn (generateClip, profileStep)
  const m = await ensureModel(j);
  m.resetPlans();
  setState('running', `generating ${j.steps} steps on ${j.preset}…`);
  await sleepFrame();
  const unwatch = watchRun('generate');
  try {
    await generateClip(m, j);
    await profileStep(m, j);
  } finally {
    unwatch();
  }
  $('adapter').textContent = adapterText(m.describe());
  setState('done', `done: ${j.preset}, ${plan!.dispatches.length} dispatches profiled (${run!.timing})`);
}

/** The adapter line: the adapter, its features, what it cannot run, and the model of the last run. */
function adapterText(model?: string): string {
  const g = gpu!;
  return [
    describeAdapter(g),
    `features: ${info.features.join(', ') || 'none'}`,
    g.isCpu ? 'a CPU adapter: small default sizes' : '',
    g.f16 ? '' : 'no shader-f16: every kernel runs in f32 (the F16 variants cannot run here)',
    model ?? '',
  ].filter(Boolean).join(' — ');
}

async function start(): Promise<void> {
  // before any GPU work: a mistyped preset, tune mode or repeats count would otherwise run something else
  const bad = urlProblems(params);
  if (bad.length) {
    urlError = true;
    throw new UrlParameterError(`${bad.join('; ')}. Fix the URL and reload; nothing was run.`);
  }
  if (!(navigator as Navigator & { gpu?: unknown }).gpu) throw new Error('this browser has no WebGPU (navigator.gpu): use Chrome/Edge 113+ or start Chromium with --enable-unsafe-webgpu. Nothing on this page can run without it.');
  setState('loading', 'requesting a WebGPU adapter…');
  gpu = await acquireGpu();
  // checked by urlProblems: a bad maxMemory has stopped the page above
  budget = pageBudget(params.get('maxMemory'), (navigator as Navigator & { deviceMemory?: number }).deviceMemory);
  info.budget = { bytes: budget.bytes ?? null, source: budget.source };
  // tune=off|cached|auto: the autotuner's mode (default auto: the first run of a plan times candidate kernels)
  const tune = params.get('tune') as TuneMode | null; // checked by urlProblems
  if (tune) setTuneMode(gpu, tune);
  info.adapter = describeAdapter(gpu);
  info.features = [gpu.f16 && 'shader-f16', gpu.timestamps && 'timestamp-query', gpu.subgroups && 'subgroups'].filter((x): x is string => !!x);
  $('adapter').textContent = adapterText();
  initControls(gpu.isCpu);
  fillKernelList(); // the kernels can be read and edited before the first run (a compile-check; the next run uses the edit)
  gpu.device.lost.then((i) => {
    if (i.reason !== 'destroyed') showError(new Error(`GPU device lost: ${i.message}`));
  });
  if (params.get('autorun') === '0') {
    setState('done', 'ready: type a prompt and press "Generate from prompt"');
    return;
  }
  // the trained pipeline is the default; a preset in the URL runs that instead
  if (params.has('preset')) await fullRun();
  else await promptRun();
}

void guarded(start);
