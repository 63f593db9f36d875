// `tessera forward`: one forward pass of a diffusers transformer on inputs from a safetensors file.
import { loadModel, InputError, type ForwardInputs } from '../model/model.js';
import { fmtBytes, type DType } from '../gpu/tensor.js';
import { checkRunFits, LimitError } from '../model/memory.js';
import { locate } from '../sampler/generate.js';
import type { Command } from './main.js';
import { checkCommandFiles, MAX_MEMORY_FLAG, maxMemory, pathAndOutChecks, writeSample } from './outputs.js';
import { readInputs, readInputsHeader } from '../io/inputs.js';
import { checkRopeGrid } from '../model/wan.js';
import { checkNames, floatInput, INPUT_NAMES, intInput, noteF64, numberInput } from './model-inputs.js';
import { UsageError, type Parsed } from './args.js';
import { VARIANT_NAME } from '../io/model-folder.js';

/** The loaders' `variant` option from --variant: `{ variant }` when given, else nothing (the default weights). */
export function variantOption(p: Parsed): { variant?: string } {
  return p.variant !== undefined ? { variant: p.variant as string } : {};
}

/**
 * --variant (forward, generate, decode, encode, demo, bench model) names weight files `X.NAME.safetensors`: a plain name,
 * checked before any file is read. @throws UsageError naming --variant.
 */
export function checkVariantFlag(p: Parsed): void {
  const v = p.variant;
  if (typeof v === 'string' && !VARIANT_NAME.test(v)) {
    throw new UsageError(`--variant ${JSON.stringify(v)}: a weight variant is a plain name of letters, digits, _ and - (e.g. fp16 or bf16; it picks the weights files X.NAME.safetensors: diffusion_pytorch_model.NAME.safetensors, a text encoder's model.NAME.safetensors)`);
  }
}

export const forwardCommand: Command = {
  spec: {
    name: 'forward',
    quiet: true,
    first: pathAndOutChecks('forward'),
    summary: "run one forward pass of a diffusers model folder (diffusers' output layout)",
    usage: 'tessera forward --model DIR --inputs IN.safetensors --out OUT.safetensors [--dtype f32|f16] [--variant NAME] [--max-memory SIZE]',
    flags: {
      model: { type: 'string', arg: 'DIR', help: 'diffusers model folder (config.json + *.safetensors)', required: true },
      inputs: { type: 'string', arg: 'FILE', help: 'safetensors with hidden_states, timestep and encoder_hidden_states (Wan/Latte) or class_labels (DiT)', required: true },
      out: { type: 'string', arg: 'FILE', help: 'output safetensors (tensor "sample", F32)', required: true },
      dtype: { type: 'choice', choices: ['f32', 'f16'], help: 'storage dtype of weights and activations (default f32 whatever the checkpoint stores, as diffusers without torch_dtype; f16 needs shader-f16)' },
      variant: { type: 'string', arg: 'NAME', help: "weight variant: diffusion_pytorch_model.NAME.safetensors (e.g. fp16), as diffusers' variant=" },
      'max-memory': MAX_MEMORY_FLAG,
    },
  },
  async run(p) {
    checkVariantFlag(p);
    const file = p.inputs as string;
    const budget = maxMemory(p);
    // the inputs' shapes from the file's header: the checks below run on them before any tensor data is read
    checkCommandFiles(p);
    const header = await readInputsHeader(file);
    const model = await loadModel(p.model as string, {
      dtype: p.dtype as DType | undefined,
      ...variantOption(p),
      maxMemory: budget,
      // refuse a run that cannot fit before reading any weight or tensor data (other shape errors are validate()'s job)
      preflight: (config, gpu, dtype) => {
        const names = INPUT_NAMES[config.family].forward;
        checkNames(file, header, names, names);
        const hs = header.get('hidden_states')!.shape;
        const text = config.family === 'dit' ? undefined : header.get('encoder_hidden_states')!.shape;
        if (config.family === 'wan' && hs.length === 5) checkRopeGrid(config, 'hidden_states', hs, hs.slice(2) as [number, number, number]);
        try {
          checkRunFits(config, hs, text, dtype, gpu.limits, { maxMemory: budget, f16: gpu.f16 });
        } catch (e) {
          if (e instanceof LimitError) throw e;
        }
        // whatever validate() will say of them, no tensor larger than one GPU buffer is read
        for (const [name, t] of header) {
          const bytes = t.shape.reduce((a, b) => a * b, 4);
          if (bytes > gpu.limits.maxBufferSize) {
            throw new LimitError(`${file}: tensor "${name}" [${t.shape.join(',')}] is ${fmtBytes(bytes)} as the model's f32, above the adapter's maxBufferSize of ${fmtBytes(gpu.limits.maxBufferSize)}: use a smaller resolution or fewer frames`);
          }
        }
      },
    });
    try {
      const inputs = noteF64(file, await readInputs(file, header)); // the header read above, not parsed again
      const names = INPUT_NAMES[model.family].forward;
      checkNames(file, inputs, names, names);
      const t = numberInput(file, inputs, 'timestep'); // diffusers' timesteps are often int64
      if (t.shape.length !== 1) throw new InputError(`${file}: tensor "timestep" must be 1-D [B], found [${t.shape.join(',')}]`);
      const fi: ForwardInputs = { hidden_states: floatInput(file, inputs, 'hidden_states'), timestep: t.data };
      if (model.family === 'dit') fi.class_labels = intInput(file, inputs, 'class_labels');
      else fi.encoder_hidden_states = floatInput(file, inputs, 'encoder_hidden_states');
      const out = await model.forward(fi);
      await writeSample(p.out as string, out, { producer: 'the forward pass', f16: model.dtype === 'f16', about: model.describe(), where: () => locate(model, fi) });
      return 0;
    } finally {
      model.dispose();
    }
  },
};
