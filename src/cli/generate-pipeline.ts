// `tessera generate --pipeline DIR`: a diffusers pipeline folder end to end — text embeddings
// from the inputs file (or a prompt, once the pipeline has a text encoder), the folder's
// scheduler, the denoising loop, and the VAE decode; writes `latents` and `video` (Wan/Latte,
// [B,F,H,W,3] in [0,1]) or `images` (DiT, [B,H,W,3]) plus the picture outputs (media.ts).
import { writeOutputAtomic } from '../io/node-write.js';
import { checkRunFits, LimitError } from '../model/memory.js';
import { InputError } from '../model/model.js';
import { latentShapeFor, loadPipeline, PIPELINES, type PipelineGenerateOptions } from '../pipeline/pipeline.js';
import type { DType } from '../gpu/tensor.js';
import { UsageError, type Parsed } from './args.js';
import { planMedia, writeMedia } from './media.js';
import { checkSeedVsLatents, generateConditioning } from './model-inputs.js';
import { commandInputs, deviceLossHook, maxMemory } from './outputs.js';
import { progressBar } from './progress.js';

export async function runPipelineGenerate(p: Parsed): Promise<number> {
  if (p.model !== undefined) throw new UsageError('give --model DIR (a transformer folder) or --pipeline DIR (a pipeline folder with model_index.json), not both');
  if (p.scheduler !== undefined) throw new UsageError('--scheduler applies to --model runs; with --pipeline the scheduler is the one in DIR/scheduler/scheduler_config.json');
  if (!p.inputs && p.seed === undefined) throw new UsageError('give --inputs FILE, or --seed N with --height/--width in pixels (and --frames for video pipelines)');
  if (p['class-label'] !== undefined && p.inputs) throw new UsageError('--class-label is for seeded runs without an inputs file');
  const media = planMedia(p, { out: p.out as string });
  const budget = maxMemory(p);
  const inputs = await commandInputs(p, { outChecked: true });
  checkSeedVsLatents(p, inputs);
  const guidanceGiven = p.guidance as number | undefined;

  const pipe = await loadPipeline(p.pipeline as string, {
    dtype: p.dtype as DType | undefined,
    maxMemory: budget,
    ...(p.variant !== undefined ? { variant: p.variant as string } : {}),
    // refuse before any weight is read when the latent shape is known (given latents)
    preflight: (config, gpu, dtype, vaeScale) => {
      // seeded sizes, checked against the VAE factors and the patch before any weight is read, naming the flags
      const sized = config.family === 'dit' ? p.height !== undefined || p.width !== undefined : p.height !== undefined && p.width !== undefined && p.frames !== undefined;
      if (p.seed !== undefined && sized) {
        try {
          latentShapeFor(config, vaeScale, 1, { height: p.height as number | undefined, width: p.width as number | undefined, num_frames: p.frames as number | undefined }, { height: '--height', width: '--width', num_frames: '--frames' });
        } catch (e) {
          if (e instanceof InputError) throw new UsageError(e.message);
          throw e;
        }
      }
      const lat = p.seed === undefined ? inputs.get('latents')?.shape : undefined;
      if (!lat || lat.length !== (config.family === 'dit' ? 4 : 5) || lat.some((d) => !Number.isInteger(d) || d < 1)) return;
      const cfgB = (guidanceGiven ?? 2) > 1 ? 2 : 1;
      const t = config.family === 'dit' ? undefined : inputs.get('encoder_hidden_states')?.shape;
      try {
        checkRunFits(config, [cfgB * lat[0]!, ...lat.slice(1)], t && t.length === 3 ? [cfgB * t[0]!, t[1]!, t[2]!] : undefined, dtype, gpu.limits, { maxMemory: budget, f16: gpu.f16 });
      } catch (e) {
        if (e instanceof LimitError) throw e;
      }
    },
  });
  try {
    const fam = pipe.family;
    const o: PipelineGenerateOptions = {
      num_inference_steps: p.steps as number | undefined,
      guidance_scale: guidanceGiven,
      shift: p.shift as number | undefined,
    };
    const cfg = (guidanceGiven ?? PIPELINES[pipe.className].guidance_scale) > 1;
    const prompt = p.prompt as string | undefined;
    if (prompt !== undefined && fam === 'dit') throw new UsageError(`--prompt: ${pipe.className} is class-conditional; give --class-label or class_labels`);
    const cond = generateConditioning(p, fam, inputs, cfg, prompt !== undefined);
    if (prompt !== undefined) {
      o.prompt = prompt;
      o.negative_prompt = p['negative-prompt'] as string | undefined;
      o.max_sequence_length = p['max-sequence-length'] as number | undefined;
    }
    o.latents = cond.latents;
    o.class_labels = cond.class_labels;
    o.prompt_embeds = cond.encoder_hidden_states;
    o.negative_prompt_embeds = cond.negative_encoder_hidden_states;
    if (!o.latents) {
      o.seed = p.seed as number;
      o.height = p.height as number | undefined;
      o.width = p.width as number | undefined;
      o.num_frames = p.frames as number | undefined;
      if ((o.height === undefined || o.width === undefined) && !(fam === 'dit' && o.height === undefined && o.width === undefined)) throw new UsageError('--seed with --pipeline needs --height and --width in pixels (and --frames for video pipelines; DiT defaults to its sample_size)');
      if (fam !== 'dit' && o.num_frames === undefined) throw new UsageError(`--seed with ${pipe.className} needs --frames (output frames${pipe.vaeScale.temporal > 1 ? `, ${pipe.vaeScale.temporal}k + 1` : ''})`);
    }
    if (!pipe.vae) o.output_type = 'latent';
    const bar = progressBar('denoising');
    const lose = deviceLossHook(pipe.gpu);
    o.onStep = (s, n) => {
      bar.update(s, n);
      lose(s);
    };
    o.onStage = (stage) => {
      if (stage === 'text') console.error(`encoding the prompt${cfg ? ' and the negative prompt' : ''} with ${pipe.modelIndex.components.get('text_encoder')?.className ?? 'the text encoder'} …`);
      if (stage === 'decode') {
        bar.done();
        console.error(`decoding with ${pipe.modelIndex.components.get('vae')!.className} …`);
      }
    };
    const t0 = performance.now();
    const res = await pipe.generate(o).catch((e: unknown) => {
      throw inCliTerms(e, p.inputs as string | undefined);
    });
    bar.done();
    const secs = (performance.now() - t0) / 1000;
    const pixels = res.video ?? res.images;
    const pixelName = res.video ? 'video' : 'images';
    const tensors = [{ name: 'latents', shape: res.latents.shape, data: res.latents.data }];
    if (pixels) tensors.push({ name: pixelName, shape: pixels.shape, data: pixels.data });
    const outs = await Promise.all([writeOutputAtomic(p.out as string, tensors), writeMedia(media, { family: fam, latents: res.latents, pixels })]);
    const vaeNote = pipe.vae ? `decoded by ${pipe.modelIndex.components.get('vae')!.className}` : `no VAE in ${pipe.name}: latents only`;
    console.error(
      `wrote ${p.out}: latents [${res.latents.shape.join(',')}]${pixels ? `, ${pixelName} [${pixels.shape.join(',')}] (F32 in [0,1])` : ''} after ${res.timesteps.length} steps in ${secs.toFixed(1)} s (${pipe.className}, ${pipe.modelIndex.components.get('scheduler')!.className}, ${vaeNote}; ${pipe.transformer.describe()})`,
    );
    for (const line of outs[1]) console.error(line);
    return 0;
  } finally {
    pipe.dispose();
  }
}

/**
 * Pipeline.generate names its options; the CLI's user gave an inputs file, whose tensors are latents,
 * encoder_hidden_states and negative_encoder_hidden_states, and flags (--dtype).
 */
function inCliTerms(e: unknown, file: string | undefined): unknown {
  if (e instanceof LimitError) return new LimitError(e.message.replace("loading the pipeline with dtype 'f16'", '--dtype f16'));
  if (!(e instanceof InputError) || file === undefined || !/^(negative_prompt_embeds|prompt_embeds|latents)\b/.test(e.message)) return e;
  const tensor = (name: string) => `"${name.replace('prompt_embeds', 'encoder_hidden_states')}"`;
  return new InputError(`${file}: tensor ${e.message.replace(/\b(negative_prompt_embeds|prompt_embeds|latents)\b/g, tensor)}`);
}

