// `tessera decode`: latents → pixels with a diffusers VAE folder (AutoencoderKLWan or AutoencoderKL).
import { InputError, type TensorData } from '../model/model.js';
import { inputErrorAt } from '../model/input-error.js';
import { fmtBytes, type DType } from '../gpu/tensor.js';
import { LimitError } from '../model/memory.js';
import { vaeDecoderKeys, type VaeConfig } from '../vae/config.js';
import type { Parsed } from './args.js';
import { loadVae } from '../vae/vae.js';
import { checkDecodeLatents, planDecode } from '../vae/decoder.js';
import type { Command } from './main.js';
import { checkCommandFiles, MAX_MEMORY_FLAG, maxMemory, pathAndOutChecks, writeSample } from './outputs.js';
import { checkFloatHeader, checkNames, floatInput, noteF64 } from './model-inputs.js';
import { readInputs, readInputsHeader } from '../io/inputs.js';
import { checkVariantFlag } from './cmd-forward.js';
import { decodeProgress } from './progress.js';
import { vaeConfigOf } from './generate-pipeline.js';

/**
 * The latents' dims (from the file's header) and values, checked before the VAE is loaded (Vae.decode checks them too,
 * after its weights are read), naming the file as every other input error of the command does.
 * @throws InputError `FILE: latents: …` for a dim < 1 or a non-finite value.
 */
function checkLatentDims(file: string, shape: readonly number[]): void {
  if (shape.some((d) => d < 1)) throw new InputError(`${file}: latents: every dim must be a positive integer, found [${shape.join(',')}]`);
}

/** checkLatentDims' companion for the values, once they are read. */
function checkLatentValues(file: string, latents: TensorData): void {
  const i = latents.data.findIndex((x) => !Number.isFinite(x));
  if (i >= 0) throw new InputError(`${file}: latents: non-finite value ${latents.data[i]} at flat index ${i}`);
}

/**
 * The GPU bytes of the decoder weights --vae's config.json implies (vaeDecoderKeys: the tensors loadVae reads, checked
 * against the weights file's header when it loads) at the run's dtype (`dtype`): a lower bound of what the loaded VAE
 * holds (its convolutions' output channels are padded to multiples of 4).
 */
export function decoderWeightBytes(config: VaeConfig, dtype: DType): number {
  let n = 0;
  for (const shape of vaeDecoderKeys(config).values()) n += shape.reduce((a, b) => a * b, 1);
  return n * (dtype === 'f16' ? 2 : 4);
}

/**
 * --max-memory (or TESSERA_MAX_GPU_MEMORY) below the decoder's weights alone (decoderWeightBytes), from config.json,
 * before the adapter is acquired or any weight read; the decode's own check (weights + peak activations) follows at
 * decode time. @throws LimitError with both sizes and what to change.
 */
function checkBudgetVsWeights(p: Parsed, config: VaeConfig, budget: number): void {
  // AutoencoderKL with force_upcast decodes in f32 whatever --dtype says (loadVae)
  const dtype: DType = config.kind === 'kl' && config.forceUpcast ? 'f32' : ((p.dtype as DType | undefined) ?? 'f32');
  const weights = decoderWeightBytes(config, dtype);
  if (weights <= budget) return;
  const flag = p['max-memory'] !== undefined ? '--max-memory' : 'TESSERA_MAX_GPU_MEMORY';
  const f16 = dtype === 'f32' && !(config.kind === 'kl' && config.forceUpcast) ? `, or --dtype f16 (${fmtBytes(weights / 2)} of weights)` : '';
  throw new LimitError(`${flag} ${fmtBytes(budget)} is below the VAE's decoder weights alone: ${fmtBytes(weights)} in ${dtype} (${p.vae as string}/config.json), before any frame, cache or scratch: give ${flag} well above ${weights} (the decode then says what it needs in all)${f16}`);
}

/** `check`'s InputError named with the inputs file `file`, as every other input error of the command. */
function namingFile(file: string, check: () => void): void {
  try {
    check();
  } catch (e) {
    throw inputErrorAt(file, e);
  }
}

export const decodeCommand: Command = {
  spec: {
    name: 'decode',
    quiet: true,
    first: pathAndOutChecks('decode'),
    summary: "decode latents to pixels with a diffusers VAE folder (diffusers' decoder output)",
    usage: 'tessera decode --vae DIR --inputs IN.safetensors --out OUT.safetensors [--dtype f32|f16] [--variant NAME] [--max-memory SIZE]',
    flags: {
      vae: { type: 'string', arg: 'DIR', help: 'diffusers VAE folder (AutoencoderKLWan or AutoencoderKL: config.json + *.safetensors)', required: true },
      inputs: { type: 'string', arg: 'FILE', help: 'safetensors with "latents" as generate writes them: [B,C,F,H,W] (Wan, Latte) or [B,C,H,W] (DiT); generate\'s --out file as is (its "video" or "images" tensor is not read)', required: true },
      out: { type: 'string', arg: 'FILE', help: 'output safetensors: "sample" F32, [B,3,F,H,W] for video latents, [B,3,H,W] for images', required: true },
      dtype: { type: 'choice', choices: ['f32', 'f16'], help: 'storage dtype of weights and activations (default f32; AutoencoderKL with force_upcast always runs in f32, as diffusers does)' },
      variant: { type: 'string', arg: 'NAME', help: 'weight variant: diffusion_pytorch_model.NAME.safetensors (e.g. fp16)' },
      'max-memory': MAX_MEMORY_FLAG,
    },
  },
  async run(p) {
    checkVariantFlag(p);
    const file = p.inputs as string;
    // loadVae's maxMemory: a decode whose weights + peak activations exceed it is refused before it runs
    const budget = maxMemory(p);
    checkCommandFiles(p);
    // the names, dtype and shape from the file's header, before any tensor data is read
    const header = await readInputsHeader(file);
    // generate's --out holds its own decode, "video" ("images" for DiT), next to "latents": accepted, not read
    checkNames(file, header, ['latents', 'video', 'images'], ['latents'], ['video', 'images']);
    checkFloatHeader(file, 'latents', header.get('latents')!);
    checkLatentDims(file, header.get('latents')!.shape);
    // the rank and channels --vae's config.json takes, before the adapter is acquired (planDecode checks them again in preflight)
    const config = vaeConfigOf(p.vae as string);
    if (config) namingFile(file, () => checkDecodeLatents(config, header.get('latents')!.shape));
    // a budget below the decoder's weights alone, from config.json before any weight is read (it was refused after loading them all)
    if (config && budget !== undefined) checkBudgetVsWeights(p, config, budget);
    const latents = floatInput(file, noteF64(file, await readInputs(file, header, ['latents'])), 'latents');
    checkLatentValues(file, latents);
    const vae = await loadVae(p.vae as string, {
      dtype: p.dtype as DType | undefined,
      variant: p.variant as string | undefined,
      maxMemory: budget,
      // shape and binding-limit checks before any weight is read or GPU work done
      preflight: (config, gpu, dtype) => namingFile(file, () => planDecode(config, latents.shape, dtype, gpu.limits.maxStorageBufferBindingSize)),
    });
    // frames (images for [B,C,H,W] latents) as they are decoded: a long decode is not silent
    const bar = decodeProgress(latents.shape.length === 5, vae.kind === 'wan' ? 'latent frame' : 'pass');
    try {
      const out = await vae
        .decode(latents, { onProgress: (done, total) => bar.update(done, total), onBlock: (pass, passes, part, parts) => bar.block(pass, passes, part, parts) })
        .catch((e: unknown) => {
          throw inputErrorAt(file, e);
        })
        .finally(() => bar.done());
      const s = vae.lastStats!;
      await writeSample(p.out as string, out, { producer: 'the decoder', f16: vae.dtype === 'f16', about: `${vae.config.raw['_class_name']}, ${vae.dtype}, ${s.seconds.toFixed(2)} s, ${s.bands} row band${s.bands > 1 ? 's' : ''}` });
      return 0;
    } finally {
      vae.dispose();
    }
  },
};
