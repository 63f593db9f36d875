// `tessera generate --pipeline DIR`: a diffusers pipeline folder end to end — text embeddings
// from the inputs file (or a prompt, once the pipeline has a text encoder), the folder's
// scheduler, the denoising loop, and the VAE decode; writes `latents` and `video` (Wan/Latte,
// [B,F,H,W,3] in [0,1]) or `images` (DiT, [B,H,W,3]) plus the picture outputs (media.ts).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { writeOutputAtomic } from '../io/node-write.js';
import { folderFile, type FolderSource } from '../io/source.js';
import { parseConfig, type ModelConfig } from '../model/config.js';
import { checkRunFits, LimitError } from '../model/memory.js';
import { InputError, resolveFolder } from '../model/model.js';
import { checkLatentsForTransformer, checkRopeSize, checkTextEmbedsForTransformer, decodedSizes, latentShapeFor, loadPipeline, pipelineVaeScale, PIPELINES, schedulerConfigFor, type PipelineGenerateOptions, type VaeScale } from '../pipeline/pipeline.js';
import type { DType } from '../gpu/tensor.js';
import { parseVaeConfig, type VaeConfig } from '../vae/config.js';
import { familyProblem, resolveSchedulerClass, SCHEDULER_CLASSES, SCHEDULER_SHORT_NAMES, SchedulerConfigError, schedulerFromConfig, shiftNoteInFlagWords, shiftProblem, StepCountError, type SamplingFamily, type SchedulerClass, type SchedulerSpec } from '../sampler/config.js';
import { UsageError, type Parsed } from './args.js';
import { writeMedia, type MediaPlan } from './media.js';
import type { InputHeader } from '../io/inputs.js';
import { checkConditioningHeader, checkSeedVsLatents, generateConditioning, generateInputHeader, generateInputs, guidanceBelowOneNote, negativeInputNote, TEXT_EMBEDDING_NAMES, textNames } from './model-inputs.js';
import { deviceLossHook, maxMemory } from './outputs.js';
import { EMBEDDED_DEFAULTS, embeddedSizeNote } from './embedded.js';
import { blockDetail, decodeProgress, info, plural, progressBar } from './progress.js';
import { variantOption } from './cmd-forward.js';
import { cpuLoopNoteFor, sizeFlagsWords } from './cpu-note.js';
import type { StepWorkOptions } from '../pipeline/step-work.js';
import { MAX_SEQUENCE_LENGTH } from '../text/prompt-encoder.js';
import { ropeAsUsage, stepsAsUsage, warnInFlagWords } from './errors.js';

/**
 * The texts of the JSON files the CLI reads before loading (model_index.json, the components' config.json, the
 * scheduler's), by path, with the size and modification time they were read at: each is read once per command by the
 * checks (readJsonFile) and served to the loader from here (pipelineFolder), so every check and the loader see the
 * same text. A file changed since (another size or time) is read again.
 */
const texts = new Map<string, { size: number; mtimeMs: number; text: string }>();

/** A local folder's file as text, read once (texts); undefined for a URL (read by the loader), a missing or unreadable file. */
function readTextOnce(file: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) return undefined;
  try {
    const st = statSync(file);
    if (!st.isFile()) return undefined;
    const hit = texts.get(file);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.text;
    const text = readFileSync(file, 'utf8');
    texts.set(file, { size: st.size, mtimeMs: st.mtimeMs, text });
    return text;
  } catch {
    return undefined;
  }
}

/** A local folder's JSON file, or undefined when it cannot be read or parsed (the loaders report that, naming the file). */
function readJsonFile(file: string): Record<string, unknown> | undefined {
  const text = readTextOnce(file);
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The files the CLI's checks read before a pipeline loads: what pipelineFolder serves the loader from their reading. */
const CHECKED_FILES = /^(model_index\.json|(transformer|vae|text_encoder)\/config\.json|scheduler\/scheduler_config\.json)$/;

/**
 * Pipeline folder `dir` as loadPipeline opens it (resolveFolder), its JSON files served from the checks' reading of
 * them (readTextOnce: model_index.json, the components' configs, the scheduler's), so a command reads each once: the
 * checks before loading and the loader see the same text. Any other file, and one the checks could not read (the
 * loader names the problem), as the folder reads it.
 */
export async function pipelineFolder(dir: string): Promise<FolderSource> {
  const folder = await resolveFolder(dir);
  return {
    name: folder.name,
    readText: async (rel) => (CHECKED_FILES.test(rel) ? readTextOnce(join(dir, rel)) : undefined) ?? folder.readText(rel),
    open: (rel) => folder.open(rel),
    ...(folder.list ? { list: (sub?: string) => folder.list!(sub) } : {}),
  };
}

/** model_index.json's _class_name of a pipeline folder (e.g. "WanPipeline"), or undefined when it cannot be read. */
export function pipelineClassName(dir: string): string | undefined {
  const c = readJsonFile(join(dir, 'model_index.json'))?._class_name;
  return typeof c === 'string' ? c : undefined;
}

/**
 * The transformer config of a folder, read before any GPU work so that flags are checked against its
 * family: `dir`/config.json (a transformer folder) or `dir`/transformer/config.json (a pipeline).
 * Undefined when it cannot be read or parsed: the loader then refuses the folder in its own words.
 */
export function transformerConfigOf(dir: string, kind: 'model' | 'pipeline'): ModelConfig | undefined {
  const raw = readJsonFile(kind === 'model' ? join(dir, 'config.json') : join(dir, 'transformer', 'config.json'));
  if (!raw) return undefined;
  try {
    return parseConfig(raw);
  } catch {
    return undefined;
  }
}

/** The class model_index.json lists for component `k` (its ["library", "Class"] pair); undefined when absent or null. */
function componentClass(index: Record<string, unknown>, k: string): string | undefined {
  const v = index[k];
  return Array.isArray(v) && typeof v[1] === 'string' ? v[1] : undefined;
}

const UMT5_ONLY = "tessera encodes prompts with UMT5EncoderModel (WanPipeline's) only";

/**
 * The VAE config of a VAE folder (`dir`/config.json: AutoencoderKLWan or AutoencoderKL), read before any GPU work so
 * that `tessera decode` checks its latents against it. Undefined when it cannot be read or parsed: loadVae then
 * refuses the folder in its own words.
 */
export function vaeConfigOf(dir: string): VaeConfig | undefined {
  const file = join(dir, 'config.json');
  const raw = readJsonFile(file);
  if (!raw) return undefined;
  try {
    return parseVaeConfig(raw, file);
  } catch {
    return undefined;
  }
}

/**
 * What `tessera demo --pipeline DIR` needs of DIR, checked from its JSON files before the GPU is
 * acquired: a text-to-video pipeline folder (model_index.json of a WanPipeline, or a LattePipeline) with
 * a UMT5 text encoder and tokenizer (demo encodes its --prompt) and a VAE (it decodes the clip). Each
 * refusal says what demo needs and which command takes the folder instead. A model_index.json that
 * cannot be parsed is left to the loader's own error.
 * @throws UsageError naming --pipeline DIR.
 */
export function checkDemoPipeline(dir: string): void {
  const at = `--pipeline ${dir}`;
  const index = readJsonFile(join(dir, 'model_index.json'));
  if (!index) {
    if (existsSync(join(dir, 'model_index.json'))) return; // there but unreadable: the loader says why
    const parent = dirname(resolve(dir));
    if (existsSync(join(dir, 'config.json'))) {
      const hint = existsSync(join(parent, 'model_index.json')) ? `: give --pipeline ${relative(process.cwd(), parent) || '.'}` : '; for one transformer use tessera generate --model DIR or tessera bench model --model DIR';
      throw new UsageError(`${at}: a single model folder (config.json, no model_index.json); demo runs a whole pipeline folder (model_index.json, text_encoder/, transformer/, vae/)${hint}`);
    }
    throw new UsageError(`${at}: no model_index.json, so not a diffusers pipeline folder; demo runs one with a text encoder (WanPipeline)`);
  }
  const cls = index._class_name;
  if (cls === 'DiTPipeline') throw new UsageError(`${at}: a DiTPipeline (class-conditional images, no text encoder); demo makes a clip from a prompt with a text-to-video pipeline whose text encoder tessera runs (WanPipeline); for DiT use tessera generate --pipeline ${dir} --seed N --class-label N`);
  if (typeof cls !== 'string' || !(cls === 'WanPipeline' || cls === 'LattePipeline')) return; // the loader names what it supports
  const te = componentClass(index, 'text_encoder');
  if (te === undefined || componentClass(index, 'tokenizer') === undefined) {
    throw new UsageError(`${at}: a ${cls} without a text encoder (model_index.json has no text_encoder/tokenizer); demo encodes its --prompt, so it needs one; with prompt embeddings use tessera generate --pipeline ${dir} --inputs FILE (encoder_hidden_states or prompt_embeds)`);
  }
  if (te !== 'UMT5EncoderModel') throw new UsageError(`${at}: its text encoder is ${te}; ${UMT5_ONLY}; with prompt embeddings use tessera generate --pipeline ${dir} --inputs FILE (encoder_hidden_states or prompt_embeds)`);
  if (componentClass(index, 'vae') === undefined) throw new UsageError(`${at}: a ${cls} without a VAE (model_index.json has no vae); demo decodes the clip with it; tessera generate --pipeline ${dir} writes the latents`);
}

/**
 * --negative-prompt with --guidance ≤ 1, which turns classifier-free guidance (the negative prompt's only use) off:
 * accepted, as diffusers ignores negative_prompt there (do_classifier_free_guidance = guidance_scale > 1), with one note
 * in the library's words (negativeUnusedNote) naming the flags; the caller then passes no negative prompt, so
 * Pipeline.generate does not say it again. generate's and demo's. Undefined when there is nothing to say.
 */
export function negativePromptGuidanceNote(p: Parsed): string | undefined {
  if (p['negative-prompt'] === undefined || p.guidance === undefined || (p.guidance as number) > 1) return undefined;
  return `note: --negative-prompt unused: --guidance ${p.guidance as number} ≤ 1 disables classifier-free guidance (as diffusers' do_classifier_free_guidance, guidance_scale > 1); give --guidance > 1 to use it`;
}

/**
 * --prompt needs a text encoder tessera runs (UMT5EncoderModel, WanPipeline's) listed in the folder's
 * model_index.json, with its tokenizer: checked from that file alone, before any weight is read. Without
 * --prompt the text comes from --inputs and the text encoder is not loaded. A model_index.json that cannot be
 * read, or a pipeline class that takes no text (DiT), is left to the loader and the family checks. Neither
 * --prompt nor text in --inputs (`header`, its tensors' names) is refused here too, before the weights load.
 * @throws UsageError naming --prompt, the folder, its text encoder and the tensors --inputs takes instead.
 */
export function checkPromptTextEncoder(p: Parsed, header: ReadonlyMap<string, unknown>): void {
  const dir = p.pipeline as string;
  const index = readJsonFile(join(dir, 'model_index.json'));
  const cls = index?._class_name;
  if (!index || (cls !== 'WanPipeline' && cls !== 'LattePipeline')) return;
  const te = componentClass(index, 'text_encoder');
  const tokenizer = componentClass(index, 'tokenizer');
  if (p.prompt === undefined) {
    if (header.has(textNames(p.inputs as string | undefined, header)[0])) return;
    const prompt = te === 'UMT5EncoderModel' && tokenizer !== undefined ? 'give --prompt, or ' : '';
    throw new UsageError(`--pipeline ${dir}: a ${cls} needs text: ${prompt}--inputs FILE with ${TEXT_EMBEDDING_NAMES}`);
  }
  const instead = `drop --prompt and give the text embeddings in --inputs FILE: ${TEXT_EMBEDDING_NAMES}`;
  if (te === undefined || tokenizer === undefined) throw new UsageError(`--prompt: ${dir} has no text encoder (its model_index.json lists no text_encoder and tokenizer); ${instead}`);
  if (te !== 'UMT5EncoderModel') throw new UsageError(`--prompt: the text encoder of ${dir} is ${te} (model_index.json); ${UMT5_ONLY}: ${instead}`);
}

/**
 * --shift sets the flow-matching shift: FlowMatchEulerDiscreteScheduler's shift, or a UniPC / DPM-Solver config's
 * flow_shift when it has use_flow_sigmas true (the embedded pipeline's UniPC, WanPipeline's); refused before any model
 * is read for the pipeline's own scheduler otherwise (DDIM, UniPC / DPM-Solver without flow sigmas). `embedded`: the
 * folder is the embedded pipeline (named so). An unreadable config is left to the loader's own error.
 * @throws UsageError naming --shift, the scheduler class and its config file.
 */
export function checkShiftApplies(pipelineDir: string, embedded: boolean): void {
  const file = join(pipelineDir, 'scheduler', 'scheduler_config.json');
  // the class loadPipeline builds: model_index.json's (as diffusers), else the config's
  const index = readJsonFile(join(pipelineDir, 'model_index.json'));
  const config = readJsonFile(file);
  const cls = (index && componentClass(index, 'scheduler')) ?? config?._class_name;
  // a missing or unsupported class is the loader's refusal
  const refused = shiftProblem(cls, config, { option: '--shift', from: `${embedded ? 'the embedded pipeline' : pipelineDir}'s scheduler`, file, choose: '--scheduler flow-match-euler' });
  if (refused) throw new UsageError(refused);
}

/**
 * The scheduler of a pipeline run (--pipeline DIR or the embedded one, `embedded`), checked before any weight
 * is read: --scheduler NAME (a class or short name, already checked) built from DIR/scheduler/scheduler_config.json
 * as diffusers' from_config, so a value that class cannot take is refused naming the file, and so are settings of
 * the class's defaults that cannot sample the folder's transformer (familyProblem: `--scheduler unipc` from a Wan
 * flow-match Euler config, which sets no prediction_type; the folder's own class too, from a config that leaves them
 * out); --shift only where it sets a flow shift (shiftProblem:
 * --scheduler's class, else the pipeline's). An unreadable config is left to the loader.
 * @throws UsageError naming --scheduler or --shift; SchedulerConfigError naming the file.
 */
export function checkPipelineScheduler(pipelineDir: string, embedded: boolean, name: string | undefined, shift: number | undefined): void {
  const file = join(pipelineDir, 'scheduler', 'scheduler_config.json');
  const config = readJsonFile(file);
  if (name !== undefined) {
    const cls = resolveSchedulerClass(name, '--scheduler');
    const refused = shift === undefined ? null : shiftProblem(cls, config, { option: '--shift', from: `--scheduler ${name}`, file, choose: '--scheduler flow-match-euler' });
    if (refused) throw new UsageError(refused);
    // the pipeline warns of ignored keys when it builds the class
    if (config) schedulerFlagFromConfig(config, name, { file, shift, warn: () => {} });
  } else if (shift !== undefined) checkShiftApplies(pipelineDir, embedded);
  // the class (--scheduler's, or the folder's own) against the transformer, as Pipeline.generate builds it
  const spec = pipelineScheduler(pipelineDir, { scheduler: name, shift })?.spec;
  const family = transformerConfigOf(pipelineDir, 'pipeline')?.family;
  if (spec && family) checkSchedulerFamily(spec, family, `a scheduler_config.json (${file})`);
}

/**
 * familyProblem in the CLI's words, for --model's scheduler and a pipeline folder's: `configHint` says where a
 * scheduler_config.json would go. @throws UsageError naming --scheduler, the model class and what to give instead.
 */
export function checkSchedulerFamily(spec: SchedulerSpec, family: SamplingFamily, configHint: string): void {
  const wrong = familyProblem(spec, family, { option: '--scheduler', choose: (n) => `--scheduler ${n}`, configHint });
  if (wrong) throw new UsageError(wrong);
}

/**
 * --steps (`steps`; undefined: the pipeline class's num_inference_steps) against the scheduler a pipeline run samples
 * with, built from the folder's JSON files as Pipeline.generate builds it (model_index.json's scheduler class, or
 * --scheduler's `o.scheduler`, from scheduler/scheduler_config.json, with --shift `o.shift`), before any model is read
 * or the GPU acquired: a count it cannot run is --steps' UsageError, the line the pipeline's own refusal gave after
 * loading (and, in demo, after the text encoder's stage). generate --pipeline's and demo's. A folder whose files cannot
 * be read, or a scheduler that cannot be built from them, is left to the loader, which names the file.
 * @throws UsageError naming --steps (and the most steps that work, where known).
 */
export function checkPipelineSteps(dir: string, steps: number | undefined, o: { scheduler?: string; shift?: number } = {}): void {
  const built = pipelineScheduler(dir, o);
  if (!built) return;
  const cls = built.index._class_name;
  const count = steps ?? (typeof cls === 'string' && Object.hasOwn(PIPELINES, cls) ? PIPELINES[cls as keyof typeof PIPELINES].num_inference_steps : undefined);
  if (count === undefined) return;
  try {
    built.spec.setTimesteps(count);
  } catch (e) {
    if (e instanceof StepCountError) throw stepsAsUsage(e);
  }
}

/**
 * The scheduler a pipeline run samples with, built from the folder's JSON files as Pipeline.generate builds it
 * (model_index.json's scheduler class, or --scheduler's `o.scheduler`, from scheduler/scheduler_config.json, with
 * --shift `o.shift`), and the folder's model_index.json; undefined when the files cannot be read or the scheduler
 * cannot be built from them (the loader names the file then).
 */
function pipelineScheduler(dir: string, o: { scheduler?: string; shift?: number }): { spec: SchedulerSpec; index: Record<string, unknown> } | undefined {
  const index = readJsonFile(join(dir, 'model_index.json'));
  const own = index && componentClass(index, 'scheduler');
  const config = readJsonFile(join(dir, 'scheduler', 'scheduler_config.json'));
  // a class the loader builds (model_index.json's, spelt as diffusers spells it): any other is the loader's refusal
  if (!index || own === undefined || !(SCHEDULER_CLASSES as readonly string[]).includes(own) || !config) return undefined;
  try {
    const name = o.scheduler === undefined ? (own as SchedulerClass) : resolveSchedulerClass(o.scheduler, '--scheduler');
    // the file as the pipeline names it in its refusal (folderRoot: the folder as given)
    const file = folderFile({ name: dir }, 'scheduler/scheduler_config.json');
    return { spec: schedulerFromConfig(schedulerConfigFor(config, own, name), { file, override: name, overrideName: null, shift: o.shift, warn: () => {} }), index };
  } catch {
    return undefined;
  }
}

/**
 * --scheduler NAME built from a folder's scheduler config (`config`: its text or contents, read from `file`) as
 * diffusers' NAME.from_config (schedulerFromConfig). A config that class cannot take (DDIM on a flow-prediction
 * config) while its own class (_class_name) can is the flag's problem: one line naming --scheduler, the value at
 * fault and the classes that take the config.
 * @throws UsageError as said; SchedulerConfigError naming `file` when its own class cannot take the config either.
 */
export function schedulerFlagFromConfig(config: Record<string, unknown> | string, name: string, opts: { file: string; shift?: number; warn?: (line: string) => void }): SchedulerSpec {
  const build = (cls: string, shift?: number, warn: (line: string) => void = () => {}) => schedulerFromConfig(config, { file: opts.file, override: cls, overrideName: '--scheduler', shift, warn });
  try {
    // the ignored-keys warning only for a class that takes the config: a refusal is the one line
    const lines: string[] = [];
    const spec = build(name, opts.shift, (l) => lines.push(l));
    for (const l of lines) (opts.warn ?? (() => {}))(l);
    return spec;
  } catch (e) {
    if (!(e instanceof SchedulerConfigError)) throw e;
    // a config its own class cannot take either (solver_order 5) is the config's problem, named with its file
    try {
      schedulerFromConfig(config, { file: opts.file, overrideName: '--scheduler', warn: () => {} });
    } catch {
      throw e;
    }
    const cls = resolveSchedulerClass(name, '--scheduler');
    const takes = (c: SchedulerClass) => {
      try {
        build(c);
        return true;
      } catch {
        return false;
      }
    };
    const others = SCHEDULER_CLASSES.filter((c) => c !== cls && takes(c));
    if (!others.length) throw e;
    const short = (c: SchedulerClass) => Object.entries(SCHEDULER_SHORT_NAMES).find(([, v]) => v === c)?.[0] ?? c;
    throw new UsageError(`--scheduler ${name}: ${e.message}; this config works with --scheduler ${others.map(short).join(', ')}`, { cause: e });
  }
}

/**
 * `generate --pipeline DIR` (or the embedded pipeline, `o.embedded`) after its flags are checked; `media`:
 * the picture outputs, planned (planMedia). With `o.embedded`, --inputs and no --prompt, an inputs file
 * without text embeddings gets the embedded pipeline's default prompt (set on `p.prompt`).
 */
export async function runPipelineGenerate(p: Parsed, media: MediaPlan, o: { embedded?: boolean } = {}): Promise<number> {
  const budget = maxMemory(p);
  // the inputs' shapes: the flag and memory checks in preflight run on them before any tensor data is read
  const header = await generateInputHeader(p);
  // an embedded run's inputs file without text embeddings (e.g. only latents): the default prompt gives the text, as in a seeded run
  const [posName, negName] = textNames(p.inputs as string | undefined, header);
  if (o.embedded && p.inputs !== undefined && p.prompt === undefined && !header.has(posName) && !header.has(negName)) {
    p.prompt = EMBEDDED_DEFAULTS.prompt;
  }
  checkSeedVsLatents(p, header);
  const guidanceGiven = p.guidance as number | undefined;

  checkPromptTextEncoder(p, header);
  // the sizes and the inputs file's tensors from the folder's JSON files, before the GPU is acquired (again in preflight when
  // they could not be read here); guidance as Pipeline.generate defaults it (the class's), for the negative text it needs
  const sizing = await pipelineSizing(p.pipeline as string);
  const className = sizing?.className ?? pipelineClassName(p.pipeline as string);
  const guidance = guidanceGiven ?? (className !== undefined && Object.hasOwn(PIPELINES, className) ? PIPELINES[className as keyof typeof PIPELINES].guidance_scale : 1);
  const cfg = guidance > 1;
  if (sizing) {
    if (p.seed !== undefined) checkSeededSizeFlags(p, sizing.config.family, sizing.className, sizing.scale);
    checkPipelineSizes(p, sizing.config, sizing.scale, header, cfg);
  }
  // negative text an unguided run does not read: said after the flag checks, before the load (and not passed, so Pipeline.generate does not say it again)
  const unusedNegative = negativeInputNote(p, header, cfg, guidanceGiven !== undefined ? `--guidance ${guidanceGiven}` : `--guidance is ${guidance} (the default of ${className ?? 'the pipeline class'})`);
  if (unusedNegative) console.error(unusedNegative);
  const belowOne = guidanceBelowOneNote(p);
  if (belowOne) console.error(belowOne);
  const unusedNegativePrompt = negativePromptGuidanceNote(p);
  if (unusedNegativePrompt) console.error(unusedNegativePrompt);
  // the embedded model at a frame size it was not trained at: after the size checks (a refused size gets its refusal alone)
  const sizeNote = o.embedded && p.inputs === undefined ? embeddedSizeNote(p.height as number, p.width as number) : undefined;
  if (sizeNote) console.error(sizeNote);
  const pipe = await loadPipeline(await pipelineFolder(p.pipeline as string), {
    dtype: p.dtype as DType | undefined,
    maxMemory: budget,
    onWarning: (line) => warnInFlagWords(shiftNoteInFlagWords(line)),
    // the text comes from --inputs without --prompt: the folder's text encoder is not needed (not loaded, whatever its class)
    ...(p.prompt === undefined ? { textEncoder: false } : {}),
    ...variantOption(p),
    // refuse before any weight is read when the latent shape is known (given latents)
    preflight: (config, gpu, dtype, vaeScale, fit) => {
      const lat = checkPipelineSizes(p, config, vaeScale, header, cfg);
      if (!lat) return;
      const cfgB = (guidanceGiven ?? 2) > 1 ? 2 : 1;
      const t = config.family === 'dit' ? undefined : header.get(posName)?.shape;
      try {
        checkRunFits(config, [cfgB * lat[0]!, ...lat.slice(1)], t && t.length === 3 ? [cfgB * t[0]!, t[1]!, t[2]!] : undefined, dtype, gpu.limits, { ...fit, maxMemory: budget });
      } catch (e) {
        if (e instanceof LimitError) throw e;
      }
    },
  });
  try {
    const fam = pipe.family;
    const inputs = await generateInputs(p, header);
    const o: PipelineGenerateOptions = {
      num_inference_steps: p.steps as number | undefined,
      guidance_scale: guidanceGiven,
      shift: p.shift as number | undefined,
      scheduler: p.scheduler as string | undefined,
    };
    const cfg = (guidanceGiven ?? PIPELINES[pipe.className].guidance_scale) > 1;
    const prompt = p.prompt as string | undefined;
    if (prompt !== undefined && fam === 'dit') throw new UsageError(`--prompt: ${pipe.className} is class-conditional; give --class-label or class_labels`);
    const cond = generateConditioning(p, fam, inputs, cfg, prompt !== undefined);
    if (prompt !== undefined) {
      // one prompt for every clip, as diffusers' num_videos_per_prompt: --batch N clips of a seeded run (the seed's noise is
      // the whole batch's), or as many as the inputs file's latents hold (--batch is refused with --inputs)
      const batch = cond.latents?.shape[0] ?? (p.batch as number);
      o.prompt = batch > 1 ? new Array<string>(batch).fill(prompt) : prompt;
      // unguided: not passed (negativePromptGuidanceNote said so; the pipeline would say it again)
      if (cfg) o.negative_prompt = p['negative-prompt'] as string | undefined;
      o.max_sequence_length = p['max-sequence-length'] as number | undefined;
    }
    o.latents = cond.latents;
    o.class_labels = cond.class_labels;
    o.prompt_embeds = cond.encoder_hidden_states;
    if (cfg) o.negative_prompt_embeds = cond.negative_encoder_hidden_states;
    if (!o.latents) {
      o.seed = p.seed as number;
      o.height = p.height as number | undefined;
      o.width = p.width as number | undefined;
      o.num_frames = p.frames as number | undefined;
      checkSeededSizeFlags(p, fam, pipe.className, pipe.vaeScale);
    }
    if (!pipe.vae) o.output_type = 'latent';
    const bar = progressBar('denoising');
    // the decode's own bar, from its stage's start: frames (DiT: images) as they are decoded
    let decoding: ReturnType<typeof decodeProgress> | undefined;
    const lose = deviceLossHook(pipe.gpu);
    o.onStep = (s, n) => {
      bar.update(s, n);
      lose(s);
    };
    // inside a long step (step 1, a slow adapter's every step): the blocks done so far
    o.onBlock = (s, n, block, blocks) => bar.update(s - 1, n, blockDetail(s, block, blocks));
    let noted = false;
    o.onStage = (stage) => {
      // on a CPU adapter a step that takes long even at a generous rate is said once, at the first stage: after the
      // call's checks (a refused call prints only its refusal), before the text encoder and the loop (user22 #6)
      if (!noted) {
        noted = true;
        const note = cpuLoopNoteFor(pipe, stepWorkOf(o, pipe.family, pipe.vaeScale), o.latents ? `--steps makes the loop shorter; a step is as big as ${p.inputs as string}'s latents` : sizeFlagsWords(fam, (p.batch as number | undefined) ?? 1));
        if (note) console.error(note);
      }
      // what the run is doing: informational (--quiet drops it)
      if (stage === 'text') info(`encoding the prompt${cfg ? ' and the negative prompt' : ''} with ${pipe.modelIndex.components.get('text_encoder')?.className ?? 'the text encoder'} …`);
      if (stage === 'decode') {
        bar.done();
        info(`decoding with ${pipe.modelIndex.components.get('vae')!.className} …`);
        decoding = decodeProgress(fam !== 'dit', fam === 'wan' ? 'latent frame' : 'pass'); // Wan's AutoencoderKLWan, or an AutoencoderKL
      }
    };
    o.onDecodeProgress = (done, total) => decoding?.update(done, total);
    o.onDecodeBlock = (pass, passes, part, parts) => decoding?.block(pass, passes, part, parts);
    const t0 = performance.now();
    const res = await pipe
      .generate(o)
      .catch((e: unknown) => {
        const err = inCliTerms(e, p.inputs as string | undefined, [posName, negName]);
        // sizes from --frames/--height/--width past rope_max_seq_len: the flags' problem (an inputs file's latents: the file's)
        throw o.latents ? err : ropeAsUsage(err);
      })
      .finally(() => {
        // a terminal's bar line ends before the result or the error line
        bar.done();
        decoding?.done();
      });
    const secs = (performance.now() - t0) / 1000;
    const pixels = res.video ?? res.images;
    const pixelName = res.video ? 'video' : 'images';
    const tensors = [{ name: 'latents', shape: res.latents.shape, data: res.latents.data }];
    if (pixels) tensors.push({ name: pixelName, shape: pixels.shape, data: pixels.data });
    const outs = await Promise.all([writeOutputAtomic(p.out as string, tensors), writeMedia(media, { family: fam, latents: res.latents, pixels })]);
    const vaeNote = pipe.vae ? `decoded by ${pipe.modelIndex.components.get('vae')!.className}` : `no VAE in ${pipe.name}: latents only`;
    console.error(
      `wrote ${p.out}: latents [${res.latents.shape.join(',')}]${pixels ? `, ${pixelName} [${pixels.shape.join(',')}] (F32 in [0,1])` : ''} after ${plural(res.timesteps.length, 'step')} in ${secs.toFixed(1)} s (${pipe.className}, ${p.scheduler !== undefined ? resolveSchedulerClass(p.scheduler as string) : pipe.scheduler.className}, ${vaeNote}; ${pipe.transformer.describe()})`,
    );
    for (const line of outs[1]) console.error(line);
    return 0;
  } finally {
    pipe.dispose();
  }
}

/**
 * The estimateStepWork options of a checked Pipeline.generate call `o` of a `family` pipeline with VAE factors
 * `scale`: its pixel sizes (given latents: the sizes they decode to, decodedSizes), steps, guidance, text length
 * (given prompt_embeds: their length, at most MAX_SEQUENCE_LENGTH) and batch (the latents', the prompts', the embeddings' or the class labels').
 */
export function stepWorkOf(o: PipelineGenerateOptions, family: ModelConfig['family'], scale: VaeScale): StepWorkOptions {
  const sizes = o.latents ? decodedSizes(family, scale, o.latents.shape) : undefined;
  const batch = o.latents?.shape[0] ?? (Array.isArray(o.prompt) ? o.prompt.length : undefined) ?? o.prompt_embeds?.shape[0] ?? o.class_labels?.length ?? 1;
  return {
    height: sizes ? sizes.height.value : o.height,
    width: sizes ? sizes.width.value : o.width,
    num_frames: sizes ? sizes.frames?.value : o.num_frames,
    num_inference_steps: o.num_inference_steps,
    guidance_scale: o.guidance_scale,
    // estimateStepWork takes the encoder's lengths; longer embeddings are counted at its longest (an estimate)
    max_sequence_length: o.prompt_embeds ? Math.min(o.prompt_embeds.shape[1]!, MAX_SEQUENCE_LENGTH) : o.max_sequence_length,
    batch,
  };
}

/**
 * The transformer config and the VAE's factors of a pipeline folder from its JSON files alone (transformerConfigOf,
 * pipelineVaeScale: no weight read, no GPU acquired), for the size checks of generate --pipeline and demo before the
 * adapter is acquired; undefined when either cannot be read or parsed: the loader names the file (and the loader's
 * preflight makes the same checks then).
 */
export async function pipelineSizing(dir: string): Promise<{ config: ModelConfig; scale: VaeScale; className: string } | undefined> {
  const config = transformerConfigOf(dir, 'pipeline');
  const className = pipelineClassName(dir);
  if (!config || className === undefined) return undefined;
  try {
    // model_index.json and vae/config.json as the checks read them (pipelineFolder), not read again
    return { config, scale: await pipelineVaeScale(await pipelineFolder(dir)), className };
  } catch {
    return undefined;
  }
}

/**
 * The sizes a seeded pipeline run needs: --height and --width (DiT: both or neither, its sample_size), and --frames
 * for video (`family`), whose class `className` and VAE `scale` the message names. Before the pipeline loads
 * (pipelineSizing) and after, for a folder whose files were not read before. @throws UsageError naming the flags.
 */
function checkSeededSizeFlags(p: Parsed, family: ModelConfig['family'], className: string, scale: VaeScale): void {
  const [h, w] = [p.height !== undefined, p.width !== undefined];
  if ((!h || !w) && !(family === 'dit' && !h && !w)) throw new UsageError('--seed with --pipeline needs --height and --width in pixels (and --frames for video pipelines; DiT defaults to its sample_size)');
  if (family !== 'dit' && p.frames === undefined) throw new UsageError(`--seed with ${className} needs --frames (output frames${scale.temporal > 1 ? `, ${scale.temporal}k + 1` : ''})`);
}

/**
 * generate --pipeline's sizes and inputs file against the transformer config and the VAE's factors (`scale`), in the
 * CLI's words, in the order the run would refuse them after loading: a seeded run's --frames/--height/--width
 * (checkSizeFlags); the inputs file's tensors as generateConditioning reads them (checkConditioningHeader: names, dtypes,
 * the latents' rank; `cfg`: guidance > 1, which needs the negative text); then as Pipeline.generate checks them, the text
 * embeddings' width and batch (checkTextEmbedsForTransformer), the latents' in_channels, batch (that of the text
 * embeddings or the class labels; with --prompt, the latents' own) and patch multiples (checkLatentsForTransformer), and
 * the sizes given too against the ones they make. From the inputs file's header (`header`): no tensor data read. Run
 * before the pipeline loads (pipelineSizing) and in its preflight.
 * @returns the inputs file's latents shape when it has positive dims and passed those checks (for the memory check), else undefined.
 * @throws UsageError naming the flag; InputError naming the file and its tensor.
 */
function checkPipelineSizes(p: Parsed, config: ModelConfig, scale: VaeScale, header: ReadonlyMap<string, InputHeader>, cfg: boolean): number[] | undefined {
  const file = p.inputs as string | undefined;
  const [posName, negName] = textNames(file, header);
  const pos = header.get(posName)?.shape;
  // seeded sizes, checked against the VAE factors and the patch before any weight is read, naming the flags
  const sized = config.family === 'dit' ? p.height !== undefined || p.width !== undefined : p.height !== undefined && p.width !== undefined && p.frames !== undefined;
  if (p.seed !== undefined && sized) {
    // the batch as Pipeline.generate counts it: --batch prompts, or the inputs file's text embeddings
    const [batch, items] = p.prompt !== undefined ? [p.batch as number, 'prompts'] : [pos?.length === 3 ? pos[0] : undefined, 'prompt_embeds items'];
    checkSizeFlags(config, scale, { height: p.height as number | undefined, width: p.width as number | undefined, num_frames: p.frames as number | undefined }, batch, items);
  }
  // generateConditioning's checks of the file (they came after loading), then Pipeline.generate's, in their lines
  checkConditioningHeader(p, config.family, header, cfg, p.prompt !== undefined);
  if (file === undefined) return undefined;
  const positive = (s: readonly number[] | undefined): s is number[] => s !== undefined && s.every((d) => Number.isInteger(d) && d >= 1);
  let batch: { size: number; items: string } | undefined;
  try {
    if (config.family === 'dit') {
      const labels = header.get('class_labels')?.shape;
      if (labels?.length === 1 && labels[0]! >= 1) batch = { size: labels[0]!, items: 'class labels' };
    } else if (p.prompt === undefined && positive(pos)) {
      const neg = header.get(negName)?.shape;
      checkTextEmbedsForTransformer(config, pos, positive(neg) ? neg : undefined);
      batch = { size: pos[0]!, items: 'prompt_embeds items' };
    }
    const lat = p.seed === undefined ? header.get('latents')?.shape : undefined;
    if (!positive(lat)) return undefined;
    checkLatentsForTransformer(config, lat, batch);
    checkSizesVsPipelineLatents(p, config, scale, lat);
    return lat;
  } catch (e) {
    throw inCliTerms(e, file, [posName, negName]);
  }
}

/**
 * Output sizes from --height/--width/--frames (`size`: pixels and frames) against the transformer config and the VAE's
 * factors (`scale`), in the flags' words: each a multiple of VAE factor × patch and frames 4k + 1 (latentShapeFor's
 * InputError as a UsageError), then, when the batch is known (`batch` of `items`, e.g. 'prompts'), Wan's
 * rope_max_seq_len in those pixels and frames (the line Pipeline.generate gives, ropeAsUsage). generate --pipeline's
 * seeded sizes and demo's, from the folder's JSON files before the GPU is acquired and in the loader's preflight.
 * @returns the latent shape [batch (1 when not known), C, F, h, w] (DiT [B, C, h, w]).
 * @throws UsageError naming the flags.
 */
export function checkSizeFlags(config: ModelConfig, scale: VaeScale, size: { height?: number; width?: number; num_frames?: number }, batch: number | undefined, items: string): number[] {
  let shape: number[];
  try {
    shape = latentShapeFor(config, scale, batch ?? 1, size, { height: '--height', width: '--width', num_frames: '--frames' });
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(e.message);
    throw e;
  }
  try {
    if (batch !== undefined) checkRopeSize(config, scale, shape, { latents: false, items });
  } catch (e) {
    throw ropeAsUsage(e);
  }
  return shape;
}

/**
 * --height/--width/--frames size seeded noise (pixels, output frames); with the inputs file's latents the
 * size is what they decode to, so a size given too must be the same (it was ignored). As Pipeline.generate's
 * check of height/width/num_frames against latents, in the CLI's terms, before any weight is read.
 * `lat`: the latents' shape ([B,C,F,H,W], DiT [B,C,H,W]), already of the family's rank.
 * @throws UsageError naming the flag, the file and the size its latents make.
 */
function checkSizesVsPipelineLatents(p: Parsed, config: ModelConfig, scale: VaeScale, lat: number[]): void {
  const made = decodedSizes(config.family, scale, lat);
  for (const [name, m] of [['frames', made.frames], ['height', made.height], ['width', made.width]] as const) {
    if (p[name] !== undefined && m && p[name] !== m.value) throw new UsageError(`--${name} ${p[name]}: the "latents" in ${p.inputs as string} [${lat.join(',')}] make ${name} ${m.value} (${m.why}); with --pipeline, --frames/--height/--width size seeded noise (output pixels and frames): drop --${name} or give ${m.value} (or remove "latents" from the file and give --seed for new noise of that size)`);
  }
}

/**
 * Pipeline.generate names its options; the CLI's user gave an inputs file, whose tensors are latents
 * and the text embeddings under the names `text` ([positive, negative]: encoder_hidden_states or
 * prompt_embeds, as the file holds them). Options named in a message are flags through errorLine's flagNames.
 */
function inCliTerms(e: unknown, file: string | undefined, text: readonly [string, string]): unknown {
  if (!(e instanceof InputError) || file === undefined || !/^(negative_prompt_embeds|prompt_embeds|latents)\b/.test(e.message)) return e;
  const tensor = (name: string) => `"${name === 'latents' ? name : name === 'prompt_embeds' ? text[0] : text[1]}"`;
  return new InputError(`${file}: tensor ${e.message.replace(/\b(negative_prompt_embeds|prompt_embeds|latents)\b/g, tensor)}`);
}

