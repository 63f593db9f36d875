// `tessera generate`: the denoising loop on a diffusers model folder, latents out (before the VAE).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readInputs } from '../io/inputs.js';
import { writeFileAtomic, writeOutputAtomic } from '../io/node-write.js';
import { InputError, loadModel } from '../model/model.js';
import { encodeGif, encodePng, latentsToFrames } from '../preview/preview.js';
import { generate, type GenerateOptions } from '../sampler/generate.js';
import { checkRunFits, LimitError } from '../model/memory.js';
import { checkOutputPath, deviceLossHook, MAX_MEMORY_FLAG, maxMemory } from './outputs.js';
import type { SchedulerName } from '../sampler/scheduler.js';
import type { DType } from '../gpu/tensor.js';
import { intInRange, UsageError, type Parsed } from './args.js';
import type { Command } from './main.js';
import { checkNames, floatInput, INPUT_NAMES, intInput } from './model-inputs.js';
import { progressBar } from './progress.js';

/** scheduler/scheduler_config.json next to the model folder (diffusers pipeline layout). */
function schedulerConfig(modelDir: string, scheduler: SchedulerName): Record<string, unknown> | undefined {
  for (const p of [join(dirname(resolve(modelDir)), 'scheduler', 'scheduler_config.json'), join(modelDir, 'scheduler_config.json')]) {
    if (!existsSync(p)) continue;
    let cfg: Record<string, unknown>;
    try {
      cfg = JSON.parse(readFileSync(p, 'utf8'));
    } catch (e) {
      throw new InputError(`${p}: not valid JSON (${(e as Error).message})`);
    }
    const cls = cfg._class_name;
    const want = scheduler === 'ddim' ? 'DDIMScheduler' : 'FlowMatchEulerDiscreteScheduler';
    if (cls !== undefined && cls !== want) {
      console.error(`note: ${p} is for ${String(cls)}, not ${want}: using ${want}'s defaults (plus flags)`);
      return undefined;
    }
    return cfg;
  }
  return undefined;
}

export const generateCommand: Command = {
  spec: {
    name: 'generate',
    summary: 'run the sampler (flow-match Euler or DDIM, with CFG) and write the final latents',
    usage: 'tessera generate --model DIR (--inputs IN.safetensors | --seed N --frames F --height H --width W) --out OUT.safetensors --scheduler flow-match-euler|ddim --steps N --guidance G [--shift S] [--preview clip.gif] [--frames-dir DIR]',
    flags: {
      model: { type: 'string', arg: 'DIR', help: 'diffusers model folder; ../scheduler/scheduler_config.json is read when present', required: true },
      inputs: { type: 'string', arg: 'FILE', help: 'safetensors with latents and encoder_hidden_states/negative_encoder_hidden_states (Wan/Latte) or class_labels (DiT)' },
      out: { type: 'string', arg: 'FILE', help: 'output safetensors (tensor "latents", F32)', required: true },
      scheduler: { type: 'choice', choices: ['flow-match-euler', 'ddim'], help: 'sampler', required: true },
      steps: { type: 'int', help: 'denoising steps', required: true },
      guidance: { type: 'number', help: 'classifier-free guidance scale (off when ≤ 1)', default: 1 },
      shift: { type: 'number', help: 'flow-match sigma shift (overrides scheduler_config.json)' },
      dtype: { type: 'choice', choices: ['f32', 'f16'], help: 'storage dtype of weights and activations (default: f16 for F16 checkpoints on a shader-f16 adapter, else f32)' },
      seed: { type: 'int', help: 'make the initial noise from this seed (instead of inputs latents)' },
      batch: { type: 'int', help: 'batch size of seeded noise', default: 1 },
      frames: { type: 'int', help: 'latent frames (with --seed; Wan/Latte)' },
      height: { type: 'int', help: 'latent height (with --seed)' },
      width: { type: 'int', help: 'latent width (with --seed)' },
      preview: { type: 'string', arg: 'FILE.gif', help: 'write the latents as an animated GIF (fixed latent→RGB map)' },
      'frames-dir': { type: 'string', arg: 'DIR', help: 'write each latent frame as a PNG' },
      'class-label': { type: 'int', help: 'DiT class id for seeded runs without an inputs file' },
      'max-memory': MAX_MEMORY_FLAG,
    },
  },
  async run(p: Parsed) {
    intInRange(p, 'steps', 1, 1000);
    if (p.shift !== undefined && (p.shift as number) <= 0) throw new UsageError(`--shift must be > 0, got ${p.shift}`);
    if (p.shift !== undefined && p.scheduler === 'ddim') throw new UsageError('--shift applies to --scheduler flow-match-euler only');
    if (!p.inputs && p.seed === undefined) throw new UsageError('give --inputs FILE, or --seed N with --height/--width (and --frames for video models)');
    checkOutputPath('out', p.out as string);
    checkOutputPath('preview', p.preview as string | undefined);
    const budget = maxMemory(p);
    const inputs = p.inputs ? await readInputs(p.inputs as string) : new Map();
    const file = (p.inputs as string) ?? '(seeded)';
    const model = await loadModel(p.model as string, {
      dtype: p.dtype as DType | undefined,
      maxMemory: budget,
      // the batched (CFG) shapes the loop will run, refused before any weight is read
      preflight: (config, gpu, dtype) => {
        const cfgB = (p.guidance as number) > 1 ? 2 : 1;
        const given = p.seed === undefined ? inputs.get('latents')?.shape : undefined;
        const spatial = [p.height as number | undefined, p.width as number | undefined];
        if (!given && (spatial[0] === undefined || spatial[1] === undefined)) return;
        const one = given ?? (config.family === 'dit' ? [p.batch as number, config.inChannels, ...spatial] : [p.batch as number, config.inChannels, (p.frames as number | undefined) ?? 1, ...spatial]);
        if (one.length !== (config.family === 'dit' ? 4 : 5) || one.some((d: number | undefined) => !Number.isInteger(d) || d! < 1)) return; // validate() reports it
        const latent = [cfgB * one[0]!, ...one.slice(1)] as number[];
        const t = config.family === 'dit' ? undefined : inputs.get('encoder_hidden_states')?.shape;
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
      const opts: GenerateOptions = {
        scheduler: p.scheduler as SchedulerName,
        steps: p.steps as number,
        guidance: p.guidance as number,
        shift: p.shift as number | undefined,
        schedulerConfig: schedulerConfig(p.model as string, p.scheduler as SchedulerName),
      };
      if (p.inputs) {
        const names = INPUT_NAMES[fam].generate;
        const required = fam === 'dit' ? ['class_labels'] : ['encoder_hidden_states'];
        if (p.seed === undefined) required.push('latents');
        if (fam !== 'dit' && (p.guidance as number) > 1) required.push('negative_encoder_hidden_states');
        checkNames(file, inputs, names, required);
        if (inputs.has('latents') && p.seed === undefined) opts.latents = floatInput(file, inputs, 'latents');
        if (fam === 'dit') opts.classLabels = intInput(file, inputs, 'class_labels');
        else {
          opts.encoderHiddenStates = floatInput(file, inputs, 'encoder_hidden_states');
          if (inputs.has('negative_encoder_hidden_states')) opts.negativeEncoderHiddenStates = floatInput(file, inputs, 'negative_encoder_hidden_states');
        }
      } else if (fam === 'dit') {
        if (p['class-label'] === undefined) throw new UsageError('DiT needs class ids: --inputs with class_labels, or --class-label N');
        opts.classLabels = new Array(p.batch as number).fill(p['class-label']);
      } else {
        throw new UsageError(`${fam} needs text embeddings: give --inputs with encoder_hidden_states${(p.guidance as number) > 1 ? ' and negative_encoder_hidden_states' : ''}`);
      }
      if (!opts.latents) {
        if (p.height === undefined || p.width === undefined) throw new UsageError('--seed needs --height and --width (latent size)');
        const c = model.config;
        const spatial = [p.height as number, p.width as number];
        const frames = (p.frames as number | undefined) ?? 1;
        opts.seed = p.seed as number;
        opts.shape = fam === 'dit' ? [p.batch as number, c.inChannels, ...spatial] : [p.batch as number, c.inChannels, frames, ...spatial];
      }
      const bar = progressBar('denoising');
      const lose = deviceLossHook(model.gpu);
      opts.onStep = (s, n) => {
        bar.update(s, n);
        lose(s);
      };
      const result = await generate(model, opts);
      bar.done();
      const outs: Promise<void>[] = [writeOutputAtomic(p.out as string, [{ name: 'latents', shape: result.latents.shape, data: result.latents.data }])];
      if (p.preview || p['frames-dir']) {
        const s = result.latents.shape;
        const one = result.latents.data.subarray(0, result.latents.data.length / s[0]!);
        const fr = latentsToFrames(one, s.slice(1), fam, { upscale: 8 });
        if (p.preview) outs.push(writeFileAtomic(p.preview as string, encodeGif(fr.frames, fr.width, fr.height)));
        if (p['frames-dir']) {
          const { mkdirSync } = await import('node:fs');
          mkdirSync(p['frames-dir'] as string, { recursive: true });
          fr.frames.forEach((f, i) => outs.push(writeFileAtomic(join(p['frames-dir'] as string, `frame-${String(i).padStart(3, '0')}.png`), encodePng(f, fr.width, fr.height))));
        }
      }
      await Promise.all(outs);
      console.error(`wrote ${p.out}: latents [${result.latents.shape.join(',')}] after ${result.timesteps.length} steps (${model.describe()})`);
      return 0;
    } finally {
      model.destroy();
    }
  },
};
