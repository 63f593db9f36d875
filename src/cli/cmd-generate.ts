// `tessera generate`: the denoising loop on a diffusers model folder, latents out (before the VAE).
import { dirname, join, resolve } from 'node:path';
import { writeOutputAtomic } from '../io/node-write.js';
import { InputError, loadModel } from '../model/model.js';
import { checkSamplingShapes } from '../model/forward.js';
import { generate, type GenerateOptions } from '../sampler/generate.js';
import { checkRunFits, LimitError } from '../model/memory.js';
import { checkRopeGrid } from '../model/wan.js';
import { ropeAsUsage, stepsAsUsage } from './errors.js';
import { deviceLossHook, MAX_MEMORY_FLAG, maxMemory, pathAndOutChecks } from './outputs.js';
import { MEDIA_FLAGS, planMedia, writeMedia } from './media.js';
import { checkPipelineScheduler, checkPipelineSteps, checkSchedulerFamily, runPipelineGenerate, schedulerFlagFromConfig, transformerConfigOf } from './generate-pipeline.js';
import { resolveSchedulerClass, SCHEDULER_CLASSES, SCHEDULER_SHORT_NAMES, SchedulerConfigError, schedulerMeant, schedulerFromConfig, schedulersForDefaults, shiftProblem, type SamplingFamily, type SchedulerSpec } from '../sampler/config.js';
import { readTextFileSync } from '../io/node-source.js';
import { FileAccessError } from '../io/source.js';
import { parsePythonJson } from '../io/json.js';
import type { DType } from '../gpu/tensor.js';
import { checkModeFlags, checkSeedFlag, givenFlags, intInRange, UsageError, type ModeFlag, type Parsed } from './args.js';
import { checkPathFlags } from './paths.js';
import type { InputHeader } from '../io/inputs.js';
import type { ModelConfig } from '../model/config.js';
import type { Command } from './main.js';
import { checkLatentPatch } from './bench-plan.js';
import { checkConditioningHeader, checkSeedVsLatents, generateConditioning, generateInputHeader, generateInputs, guidanceBelowOneNote, negativeInputNote, textNames } from './model-inputs.js';
import { checkVariantFlag, variantOption } from './cmd-forward.js';
import { blockDetail, plural, progressBar } from './progress.js';
import { cpuLoopNoteForModel, sizeFlagsWords } from './cpu-note.js';
import { EMBEDDED_DEFAULTS, embeddedPipelineDir, vocabularyNote } from './embedded.js';
import { MAX_SEQUENCE_LENGTH } from '../text/prompt-encoder.js';
import { PIPELINES } from '../pipeline/pipeline.js';

/** A diffusers call default of the pipeline classes, for the help: `50`, or `Wan 5, Latte 7.5, DiT 4` when they differ. */
function pipelineDefault(key: 'guidance_scale' | 'num_inference_steps'): string {
  const each = Object.entries(PIPELINES).map(([cls, p]) => [cls.replace(/Pipeline$/, ''), p[key]] as const);
  return new Set(each.map(([, v]) => v)).size === 1 ? String(each[0]![1]) : each.map(([c, v]) => `${c} ${v}`).join(', ');
}

/**
 * The scheduler of a `--model DIR` run, as diffusers builds it: the config is
 * DIR/../scheduler/scheduler_config.json (a pipeline folder's) or DIR/scheduler_config.json; its
 * `_class_name` is the class unless `--scheduler` names one (then `X.from_config(config)`).
 * Without a config file, `--scheduler` is required and the class's defaults are used. `family`: the transformer's
 * (config.json, where it could be read): a scheduler whose default settings cannot sample it (`--scheduler unipc`'s
 * epsilon defaults on a flow-matching Wan folder with no config) is refused naming --scheduler, and the "no scheduler
 * config" line offers only the classes whose defaults fit it.
 * @throws UsageError naming --scheduler or --shift; SchedulerConfigError naming the config file.
 */
export function cliScheduler(modelDir: string, name: string | undefined, shift: number | undefined, warn: (line: string) => void = (l) => console.error(l), family?: SamplingFamily): SchedulerSpec {
  if (name !== undefined) checkSchedulerName(name);
  const paths = [join(dirname(resolve(modelDir)), 'scheduler', 'scheduler_config.json'), join(modelDir, 'scheduler_config.json')];
  let spec: SchedulerSpec | undefined;
  for (const p of paths) {
    let text: string | null;
    try {
      text = readTextFileSync(p);
    } catch (e) {
      // there but unreadable (a folder in its place, no permission): the config's problem, not "no config"
      throw e instanceof FileAccessError ? new SchedulerConfigError(e.message, { cause: e }) : e;
    }
    if (text === null) continue;
    if (shift !== undefined) checkShiftClass(name, p, text);
    // the ignored-keys lines wait for the family check: a refused run gets its one line
    const lines: string[] = [];
    spec = name !== undefined ? schedulerFlagFromConfig(text, name, { file: p, shift, warn: (l) => lines.push(l) }) : schedulerFromConfig(text, { file: p, overrideName: '--scheduler', shift, warn: (l) => lines.push(l) });
    if (family) checkSchedulerFamily(spec, family, `a scheduler_config.json (${paths[0]})`);
    for (const l of lines) warn(l);
    return spec;
  }
  // only the classes whose defaults are right for the transformer (Wan: flow-match Euler alone)
  const fit = family ? schedulersForDefaults(family) : { classes: SCHEDULER_CLASSES, short: Object.keys(SCHEDULER_SHORT_NAMES) };
  if (name === undefined) {
    const why = family ? `: the class defaults that fit a ${family === 'wan' ? 'flow-matching Wan' : family === 'dit' ? 'DiT (epsilon)' : 'Latte (epsilon)'} transformer` : '';
    throw new UsageError(`tessera generate: no scheduler config (${paths[0]} or ${paths[1]}): give --scheduler (${fit.classes.join(', ')} or ${fit.short.join(', ')}${why}), or put the model's scheduler_config.json there`);
  }
  if (shift !== undefined) checkShiftClass(name, undefined, undefined);
  spec = schedulerFromConfig({}, { file: `${name} defaults`, override: name, overrideName: '--scheduler', shift });
  if (family) checkSchedulerFamily(spec, family, `a scheduler_config.json (${paths[0]})`);
  return spec;
}

/**
 * --shift with a scheduler that has no flow shift to set (--scheduler NAME, else the class in `file`,
 * whose text is `text`: DDIM, or UniPC / DPM-Solver without use_flow_sigmas) is the flag's problem: one UsageError
 * naming --shift, the class and what to do, before the config is read further (no ignored-keys warning first). A
 * config that does not parse or names no supported class is left to schedulerFromConfig's own error.
 */
function checkShiftClass(name: string | undefined, file: string | undefined, text: string | undefined): void {
  let config: Record<string, unknown> | null = null;
  try {
    config = text === undefined ? null : (parsePythonJson(text) as Record<string, unknown> | null);
  } catch {
    if (name === undefined) return;
  }
  if (config !== null && (typeof config !== 'object' || Array.isArray(config))) config = null;
  const cls: unknown = name !== undefined ? resolveSchedulerClass(name, '--scheduler') : config?._class_name;
  const from = name !== undefined ? `--scheduler ${name}` : `the _class_name in ${file}`;
  const refused = shiftProblem(cls, config, { option: '--shift', from, file, choose: '--scheduler flow-match-euler' });
  if (refused) throw new UsageError(refused);
}

/**
 * --steps against the scheduler and its config (set_timesteps, before any weight is read): a count
 * it cannot run (StepCountError: out of range, or so many that the timesteps repeat) is the flag's
 * problem. @throws UsageError naming --steps (and the most steps that work, where known).
 */
export function checkStepsFlag(scheduler: SchedulerSpec, steps: number): void {
  try {
    scheduler.setTimesteps(steps);
  } catch (e) {
    throw stepsAsUsage(e);
  }
}

/** --scheduler names a class or a short name (generate's and demo's). @throws UsageError listing both. */
export function checkSchedulerName(name: string): void {
  try {
    resolveSchedulerClass(name, '--scheduler');
  } catch {
    const near = schedulerMeant(name);
    throw new UsageError(`--scheduler must be one of ${SCHEDULER_CLASSES.join(', ')} (or ${Object.keys(SCHEDULER_SHORT_NAMES).join(', ')}), got "${name}"${near ? ` (did you mean ${near}?)` : ''}`);
  }
}

/** generate's three modes: --model DIR (a transformer folder), --pipeline DIR, or neither (the embedded pipeline). */
type GenerateMode = 'model' | 'pipeline' | 'embedded';

/** The flags only some modes take (every other flag applies to all three), each with its refusal in the others. */
const GENERATE_MODE_FLAGS: Record<string, ModeFlag<GenerateMode>> = {
  prompt: { modes: ['pipeline', 'embedded'], refuse: () => '--prompt needs --pipeline DIR (its tokenizer/ and text_encoder/ encode the prompt); with --model give encoder_hidden_states in --inputs' },
};

/** Most clips one run makes together: they share each step's GPU pass, so memory grows with the batch. */
export const MAX_BATCH = 64;

/**
 * The values of the flags that size a seeded run, checked before anything is read: --batch (1 to
 * MAX_BATCH; seeded runs only, the file's batch otherwise), --height/--width/--frames (positive),
 * --class-label (seeded runs only; its range is the model's: checkFamilyFlags), --shift (> 0). @throws UsageError naming the flag.
 */
function checkSeededFlags(p: Parsed): void {
  const given = givenFlags(p);
  if (given.has('batch')) {
    const b = p.batch as number;
    if (b < 1 || b > MAX_BATCH) throw new UsageError(`--batch: clips made together, an integer from 1 to ${MAX_BATCH} (one GPU pass per step holds them all; for more, run again with another --seed), got ${b}`);
    if (p.inputs !== undefined) throw new UsageError('--batch applies to seeded runs without --inputs (clips of one --prompt, or images of one --class-label); with --inputs the batch is the file\'s (the first dimension of its tensors)');
  }
  for (const name of ['height', 'width', 'frames']) {
    if (p[name] !== undefined && (p[name] as number) < 1) throw new UsageError(`--${name}: must be a positive integer, got ${p[name]}`);
  }
  if (p['class-label'] !== undefined && p.inputs !== undefined) throw new UsageError('--class-label is for seeded runs without an inputs file');
  if (p.shift !== undefined && (p.shift as number) <= 0) throw new UsageError(`--shift must be > 0, got ${p.shift}`);
}

/**
 * The flags that depend on the transformer's family: --class-label only for DiT (and within its
 * num_classes, the last being the null class guidance uses), --frames and --prompt only for video
 * models. `where` names the folder in the message, `kind` what it is. @throws UsageError naming the flag.
 */
function checkFamilyFlags(p: Parsed, c: ModelConfig, where: string, kind: 'model' | 'pipeline'): void {
  const label = p['class-label'] as number | undefined;
  if (c.family !== 'dit') {
    if (label !== undefined) throw new UsageError(`--class-label applies to DiT (class-conditional) models; ${where} is a ${c.family === 'wan' ? 'Wan' : 'Latte'} ${kind}, conditioned on text (${kind === 'model' ? 'encoder_hidden_states in --inputs' : '--prompt'})`);
    return;
  }
  if (p.frames !== undefined) throw new UsageError(`--frames applies to video models; ${where} is a DiT ${kind} (images)`);
  if (p.prompt !== undefined) throw new UsageError(`--prompt: ${where} is a DiT ${kind}, class-conditional: give --class-label N (or class_labels in --inputs)`);
  if (label !== undefined && (label < 0 || label > c.numClasses)) throw new UsageError(`--class-label: must be a class id from 0 to ${c.numClasses} (${c.numClasses} = the null class used for guidance), got ${label}`);
}

/**
 * --frames/--height/--width size seeded noise in latent units; with the file's latents the size is
 * theirs, so a size given too must be the same (it was ignored). @throws UsageError naming the flag and the file's shape.
 */
function checkSizesVsLatents(p: Parsed, inputs: ReadonlyMap<string, InputHeader>): void {
  const lat = p.seed === undefined ? inputs.get('latents')?.shape : undefined;
  if (!lat || lat.length < 4) return; // generateConditioning names a wrong rank
  const dims: [string, number | undefined][] = [['frames', lat.length === 5 ? lat[2] : undefined], ['height', lat[lat.length - 2]], ['width', lat[lat.length - 1]]];
  for (const [name, d] of dims) {
    if (p[name] !== undefined && d !== undefined && p[name] !== d) throw new UsageError(`--${name} ${p[name]}: the "latents" in ${p.inputs as string} [${lat.join(',')}] have ${name} ${d}; with --model, --frames/--height/--width size seeded noise (latent units): drop --${name} (or remove "latents" from the file and give --seed for new noise of that size)`);
  }
}

/**
 * The latents of a --model run (the inputs file's, or seeded from --frames/--height/--width and the batch) against
 * Wan's rope_max_seq_len: generate()'s InputError in its words, a UsageError naming the flags for seeded sizes.
 * Before the model is read (from `config`, transformerConfigOf) and in the loader's preflight.
 * @returns the latents' shape [B, C, (F,) H, W], or undefined when it is not known or not valid yet (validate() names it).
 */
function checkModelRope(p: Parsed, config: ModelConfig, header: ReadonlyMap<string, InputHeader>): number[] | undefined {
  const given = p.seed === undefined ? header.get('latents')?.shape : undefined;
  const spatial = [p.height as number | undefined, p.width as number | undefined];
  if (!given && (spatial[0] === undefined || spatial[1] === undefined)) return undefined;
  const B = seededBatch(p, config.family, header);
  const one = given ?? (config.family === 'dit' ? [B, config.inChannels, ...spatial] : [B, config.inChannels, (p.frames as number | undefined) ?? 1, ...spatial]);
  if (one.length !== (config.family === 'dit' ? 4 : 5) || one.some((d: number | undefined) => !Number.isInteger(d) || d! < 1)) return undefined; // validate() reports it
  // a grid past rope_max_seq_len is generate()'s InputError, in its words, before any weight is read;
  // seeded sizes (--frames/--height/--width) are the flags' problem
  if (config.family === 'wan') {
    try {
      checkRopeGrid(config, 'hidden_states', one as number[], one.slice(2) as [number, number, number]);
    } catch (e) {
      throw given ? e : ropeAsUsage(e);
    }
  }
  return one as number[];
}

/**
 * The inputs file's shapes against the transformer config, by generate()'s own check (checkSamplingShapes): the
 * latents' rank and in_channels, the text embeddings' width and batch (the latents'), the negative text's batch and
 * width, a DiT's class label count; from the file's header (`header`), so before any weight is read, and in the
 * loader's preflight. `latents`: the run's latent shape (the file's, or seeded: checkModelRope), undefined when not known.
 * @throws InputError naming the file and its tensor, in generate()'s words.
 */
function checkInputShapes(p: Parsed, config: ModelConfig, header: ReadonlyMap<string, InputHeader>, latents: number[] | undefined): void {
  const file = p.inputs as string | undefined;
  if (file === undefined || latents === undefined) return;
  const [pos, neg] = textNames(file, header);
  const labels = header.get('class_labels')?.shape;
  const quoted = { latents: '"latents"', text: `"${pos}"`, negText: `"${neg}"`, classLabels: '"class_labels"' };
  try {
    checkSamplingShapes(config, { latents, text: header.get(pos)?.shape, negText: header.get(neg)?.shape, classLabels: labels?.length === 1 ? labels[0] : undefined }, quoted);
  } catch (e) {
    // a tensor's shape is the file's problem; a config the sampler cannot use (out_channels) is not
    if (e instanceof InputError && e.message.startsWith('"')) throw new InputError(`${file}: tensor ${e.message}`, { cause: e });
    throw e;
  }
}

/** The batch of a seeded --model run: the inputs file's text or class labels when it has them, else --batch. */
function seededBatch(p: Parsed, family: ModelConfig['family'], inputs: ReadonlyMap<string, InputHeader>): number {
  return inputs.get(family === 'dit' ? 'class_labels' : textNames(p.inputs as string | undefined, inputs)[0])?.shape[0] ?? (p.batch as number);
}

export const generateCommand: Command = {
  spec: {
    name: 'generate',
    quiet: true,
    first: pathAndOutChecks('generate'),
    summary: 'run the sampler (with CFG) on a transformer folder (latents out) or a pipeline folder (latents + decoded video); without either, the embedded tessera-shapes pipeline',
    usage:
      'tessera generate --model DIR (--inputs IN.safetensors | --seed N --frames F --height H --width W [--class-label C]) --out OUT.safetensors --steps N [--guidance G] [--scheduler CLASS] [--variant NAME] [--shift S] [--dtype f32|f16] [--max-memory SIZE] [--video clip.mp4] [--preview clip.gif] [--fps N] [--frames-dir DIR]\n' +
      '       tessera generate --pipeline DIR [--prompt P [--negative-prompt N] [--max-sequence-length L]] (--inputs IN.safetensors | --seed N --frames F --height H --width W [--batch B] [--class-label C]) --out OUT.safetensors [--steps N] [--guidance G] [--scheduler CLASS] [--variant NAME] [--shift S] [--dtype f32|f16] [--max-memory SIZE] [--video clip.mp4] [--preview clip.gif] [--fps N] [--frames-dir DIR]\n' +
      '       tessera generate [--prompt P [--negative-prompt N] [--max-sequence-length L]] [--inputs IN.safetensors | --seed N [--frames F --height H --width W]] [--steps N] [--guidance G] [--batch B] [--scheduler CLASS] [--shift S] [--max-memory SIZE] --out OUT.safetensors [--video clip.mp4] [--preview clip.gif] [--fps N] [--frames-dir DIR]   (the embedded tessera-shapes pipeline: 20 steps, 9 frames of 32×32 (its trained size), seed 0)',
    flags: {
      model: { type: 'string', arg: 'DIR', help: 'diffusers transformer folder; ../scheduler/scheduler_config.json is read when present (or --pipeline)' },
      pipeline: { type: 'string', arg: 'DIR', help: 'diffusers pipeline folder (model_index.json, transformer/, scheduler/, vae/): samples with its scheduler and decodes with its VAE. A folder given by path, a copy of models/tessera-shapes too, takes none of the embedded pipeline\'s defaults (seed, size, steps, prompt): give --seed with --height/--width/--frames, or --inputs' },
      inputs: { type: 'string', arg: 'FILE', help: "safetensors with latents and encoder_hidden_states/negative_encoder_hidden_states (Wan/Latte; or diffusers' pipeline names prompt_embeds/negative_prompt_embeds, as tessera encode writes them) or class_labels (DiT)" },
      out: { type: 'string', arg: 'FILE', help: 'output safetensors: "latents" (F32), and with a pipeline\'s VAE "video" [B,F,H,W,3] in [0,1] ("images" [B,H,W,3] for DiT)', required: true },
      scheduler: { type: 'string', arg: 'CLASS', help: `scheduler class (${SCHEDULER_CLASSES.join(', ')}; or ${Object.keys(SCHEDULER_SHORT_NAMES).join(', ')}), built from the folder's scheduler_config.json as diffusers' from_config does; default: the config's _class_name (--pipeline: model_index.json's scheduler). Refused where the class's default settings cannot sample the model and the config does not set them (unipc/dpmpp/ddim's epsilon defaults on a flow-matching Wan: give flow-match-euler)` },
      variant: { type: 'string', arg: 'NAME', help: 'weight variant (e.g. fp16), as diffusers\' variant=: diffusion_pytorch_model.NAME.safetensors; with --pipeline for every component that has it (text_encoder: model.NAME.safetensors), refused when none has' },
      steps: { type: 'int', help: `denoising steps (required with --model; default ${pipelineDefault('num_inference_steps')} with --pipeline, as diffusers; ${EMBEDDED_DEFAULTS.num_inference_steps} for the embedded pipeline)` },
      guidance: { type: 'number', help: `classifier-free guidance scale, off when ≤ 1 (default 1 with --model; the pipeline class's default with --pipeline, as diffusers: ${pipelineDefault('guidance_scale')})` },
      shift: { type: 'number', help: "flow-matching sigma shift, replacing scheduler_config.json's as diffusers' from_config(config, shift=S): FlowMatchEulerDiscreteScheduler's shift, or UniPC / DPM-Solver's flow_shift when the config has use_flow_sigmas true (Wan's UniPC recipe, flow_shift=5.0); refused for DDIM and for UniPC / DPM-Solver without flow sigmas" },
      dtype: { type: 'choice', choices: ['f32', 'f16'], help: 'storage dtype of weights and activations (default f32 whatever the checkpoint stores, as diffusers without torch_dtype; f16 needs shader-f16)' },
      seed: { type: 'int', help: 'make the initial noise from this seed (instead of inputs latents; the embedded pipeline: default 0) with tessera\'s own generator, not torch\'s: the same seed does not give diffusers\' noise; to reproduce a diffusers run, save the initial latents torch draws as "latents" (F32) and pass them with --inputs (README: Reproducing a diffusers run)' },
      batch: { type: 'int', help: `seeded runs without --inputs: clips of one --prompt (images of one --class-label for DiT) made together, 1 to ${MAX_BATCH}, the seed's noise the whole batch's (with --inputs the batch is the file's, one --prompt repeated over it); --video/--preview/--frames-dir show item 0`, default: 1 },
      frames: { type: 'int', help: `with --seed: latent frames with --model; output frames with --pipeline (Wan: 4k+1; the embedded pipeline: ${EMBEDDED_DEFAULTS.num_frames}); not for DiT` },
      height: { type: 'int', help: `with --seed: latent height with --model; output height in pixels with --pipeline (the embedded pipeline: ${EMBEDDED_DEFAULTS.height})` },
      width: { type: 'int', help: `with --seed: latent width with --model; output width in pixels with --pipeline (the embedded pipeline: ${EMBEDDED_DEFAULTS.width})` },
      ...MEDIA_FLAGS,
      'class-label': { type: 'int', help: 'DiT only: the class id (0 to num_classes, the last the null class) for seeded runs without an inputs file' },
      prompt: { type: 'string', arg: 'TEXT', help: `with --pipeline: the prompt, encoded by the folder's tokenizer/ and text_encoder/ (UMT5) as WanPipeline does (instead of encoder_hidden_states); the embedded pipeline: default "${EMBEDDED_DEFAULTS.prompt}" (with --inputs, when the file holds no text: encoder_hidden_states or prompt_embeds)` },
      'negative-prompt': { type: 'string', arg: 'TEXT', help: 'with --prompt (or the embedded pipeline\'s default prompt): the negative prompt for classifier-free guidance (default ""); unused, with a note, at --guidance ≤ 1 (as diffusers)' },
      'max-sequence-length': { type: 'int', arg: 'N', help: 'with --prompt (or the embedded pipeline\'s default prompt): tokens per prompt, truncated or zero-padded (default 512, as WanPipeline)' },
      'max-memory': MAX_MEMORY_FLAG,
    },
  },
  async run(p: Parsed) {
    checkSeedFlag(p); // a seed outside the generator's 32 bits would alias another (src/random.ts)
    if (p.steps !== undefined) intInRange(p, 'steps', 1, 1000);
    checkVariantFlag(p);
    if (p['max-sequence-length'] !== undefined) intInRange(p, 'max-sequence-length', 1, MAX_SEQUENCE_LENGTH);
    if (p.pipeline !== undefined && p.model !== undefined) throw new UsageError('give --model DIR (a transformer folder) or --pipeline DIR (a pipeline folder with model_index.json), not both');
    const mode: GenerateMode = p.pipeline !== undefined ? 'pipeline' : p.model !== undefined ? 'model' : 'embedded';
    checkModeFlags(p, mode, GENERATE_MODE_FLAGS);
    checkSeededFlags(p);
    if (mode === 'embedded') {
      // no folder given: the embedded tessera-shapes pipeline at the size it was trained for
      p.pipeline = embeddedPipelineDir();
      p.steps ??= EMBEDDED_DEFAULTS.num_inference_steps;
      if (p.inputs === undefined) {
        p.height ??= EMBEDDED_DEFAULTS.height;
        p.width ??= EMBEDDED_DEFAULTS.width;
        p.frames ??= EMBEDDED_DEFAULTS.num_frames;
        p.seed ??= 0;
        p.prompt ??= EMBEDDED_DEFAULTS.prompt;
      }
      if (p.prompt !== undefined) {
        const note = vocabularyNote(p.prompt as string);
        if (note) console.error(note);
      }
    }
    // after the embedded pipeline's default prompt is in place: the text flags shape the prompt's encoding
    if (p['negative-prompt'] !== undefined && p.prompt === undefined) throw new UsageError('--negative-prompt needs --prompt');
    if (p['max-sequence-length'] !== undefined && p.prompt === undefined) throw new UsageError('--max-sequence-length needs --prompt');
    if (mode === 'model' && p.steps === undefined) throw new UsageError('tessera generate: --model needs --steps N');
    if (p.scheduler !== undefined) checkSchedulerName(p.scheduler as string);
    if (!p.inputs && p.seed === undefined) throw new UsageError(mode === 'model' ? 'give --inputs FILE, or --seed N with --height/--width (and --frames for video models)' : 'give --inputs FILE, or --seed N with --height/--width in pixels (and --frames for video pipelines)');
    const media = planMedia(p, { out: p.out as string });
    // the folder, and the flags its transformer takes (--class-label for DiT, --frames and --prompt for video), before any GPU work
    checkPathFlags(p);
    const dir = (p.pipeline ?? p.model) as string;
    const config = transformerConfigOf(dir, mode === 'model' ? 'model' : 'pipeline');
    if (config) checkFamilyFlags(p, config, mode === 'embedded' ? 'the embedded tessera-shapes pipeline' : mode === 'model' ? `--model ${dir}` : `--pipeline ${dir}`, mode === 'model' ? 'model' : 'pipeline');
    if (mode !== 'model') {
      checkPipelineScheduler(dir, mode === 'embedded', p.scheduler as string | undefined, p.shift as number | undefined);
      // a step count that scheduler cannot run, from the folder's files before any model is read (as --model's checkStepsFlag)
      checkPipelineSteps(dir, p.steps as number | undefined, { scheduler: p.scheduler as string | undefined, shift: p.shift as number | undefined });
    }
    // the pipeline's scheduler refuses a step count when it sets its timesteps: --steps' problem too (a folder whose files the check above could not read)
    if (mode !== 'model') return runPipelineGenerate(p, media, { embedded: mode === 'embedded' }).catch((e: unknown) => Promise.reject(stepsAsUsage(e)));
    const guidanceWords = p.guidance === undefined ? '--guidance is 1 (the default with --model)' : `--guidance ${p.guidance as number}`;
    p.guidance ??= 1;
    // the scheduler and its config, checked before any weight is read
    const scheduler = cliScheduler(p.model as string, p.scheduler as string | undefined, p.shift as number | undefined, undefined, config?.family);
    checkStepsFlag(scheduler, p.steps as number);
    const budget = maxMemory(p);
    // the inputs' shapes: the flag and memory checks below run on them before any tensor data is read
    const header = await generateInputHeader(p);
    checkSeedVsLatents(p, header);
    checkSizesVsLatents(p, header);
    // a seeded run's size flags: before the model is read or the GPU acquired (they were checked after the weights loaded)
    if (p.seed !== undefined && (p.height === undefined || p.width === undefined)) throw new UsageError('--seed needs --height and --width (latent size)');
    // seeded sizes the patch cannot split, in the flags' words (generate() named its hidden_states after loading)
    if (config && p.seed !== undefined) checkLatentPatch('generate', `--model ${dir}`, config, { frames: (p.frames as number | undefined) ?? 1, height: p.height as number, width: p.width as number });
    const early = config ? checkModelRope(p, config, header) : undefined;
    // the file's tensor names, dtypes and latents' rank (or the text a run without one lacks), as the run read them after
    // loading, then their shapes against config.json as generate() checks them (again in preflight when config.json
    // could not be read here)
    const cfg = (p.guidance as number) > 1;
    if (config) {
      checkConditioningHeader(p, config.family, header, cfg);
      checkInputShapes(p, config, header, early);
    }
    // negative text an unguided run does not read: said before the load (and not passed, so generate() does not say it again)
    const unusedNegative = negativeInputNote(p, header, cfg, guidanceWords);
    if (unusedNegative) console.error(unusedNegative);
    const belowOne = guidanceBelowOneNote(p);
    if (belowOne) console.error(belowOne);
    const model = await loadModel(p.model as string, {
      dtype: p.dtype as DType | undefined,
      ...variantOption(p),
      maxMemory: budget,
      // the batched (CFG) shapes the loop will run, refused before any weight is read
      preflight: (config, gpu, dtype) => {
        const cfgB = cfg ? 2 : 1;
        const one = checkModelRope(p, config, header);
        checkConditioningHeader(p, config.family, header, cfg);
        checkInputShapes(p, config, header, one);
        if (!one) return;
        const latent = [cfgB * one[0]!, ...one.slice(1)] as number[];
        const t = config.family === 'dit' ? undefined : header.get(textNames(p.inputs as string, header)[0])?.shape;
        const text = t && t.length === 3 ? [cfgB * t[0]!, t[1]!, t[2]!] : undefined;
        try {
          checkRunFits(config, latent, text, dtype, gpu.limits, { maxMemory: budget, f16: gpu.f16 });
        } catch (e) {
          if (e instanceof LimitError) throw e;
        }
      },
    });
    try {
      const fam = model.family;
      const inputs = await generateInputs(p, header);
      const opts: GenerateOptions = {
        scheduler,
        num_inference_steps: p.steps as number,
        guidance_scale: p.guidance as number,
      };
      const cond = generateConditioning(p, fam, inputs, (p.guidance as number) > 1);
      opts.latents = cond.latents;
      opts.class_labels = cond.class_labels;
      opts.encoder_hidden_states = cond.encoder_hidden_states;
      if (cfg) opts.negative_encoder_hidden_states = cond.negative_encoder_hidden_states;
      if (!opts.latents) {
        const c = model.config;
        const spatial = [p.height as number, p.width as number];
        const frames = (p.frames as number | undefined) ?? 1;
        opts.seed = p.seed as number;
        const B = seededBatch(p, fam, inputs);
        opts.shape = fam === 'dit' ? [B, c.inChannels, ...spatial] : [B, c.inChannels, frames, ...spatial];
      }
      const bar = progressBar('denoising');
      const lose = deviceLossHook(model.gpu);
      opts.onStep = (s, n) => {
        bar.update(s, n);
        lose(s);
      };
      opts.onBlock = (s, n, block, blocks) => bar.update(s - 1, n, blockDetail(s, block, blocks));
      // on a CPU adapter, a step that takes long even at a generous rate is said before the loop (as generate --pipeline says it; the flags were checked before the load)
      const latent = opts.latents?.shape ?? opts.shape!;
      const note = cpuLoopNoteForModel(model, { latent, textLen: opts.encoder_hidden_states?.shape[1], steps: p.steps as number, guidance: p.guidance as number }, opts.latents ? `--steps makes the loop shorter; a step is as big as ${p.inputs as string}'s latents` : sizeFlagsWords(fam, (p.batch as number | undefined) ?? 1));
      if (note) console.error(note);
      const result = await generate(model, opts);
      bar.done();
      const [, lines] = await Promise.all([
        writeOutputAtomic(p.out as string, [{ name: 'latents', shape: result.latents.shape, data: result.latents.data }]),
        writeMedia(media, { family: fam, latents: result.latents }),
      ]);
      console.error(`wrote ${p.out}: latents [${result.latents.shape.join(',')}] after ${plural(result.timesteps.length, 'step')} of ${result.scheduler} (${model.describe()})`);
      for (const line of lines) console.error(line);
      return 0;
    } finally {
      model.dispose();
    }
  },
};
