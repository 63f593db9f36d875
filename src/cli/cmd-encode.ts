// `tessera encode`: WanPipeline's prompt embeddings (tokenizer + UMT5 text encoder) on WebGPU.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { componentKindOfText, componentWords, parentFolder } from '../io/component-kind.js';
import { nodeFolder } from '../io/node-source.js';
import { writeOutputAtomic } from '../io/node-write.js';
import { DEFAULT_MAX_SEQUENCE_LENGTH, loadTextEncoder, MAX_SEQUENCE_LENGTH } from '../text/prompt-encoder.js';
import { LimitError } from '../model/memory.js';
import { LET_IT_STREAM } from '../text/memory.js';
import { intInRange, UsageError, type Parsed } from './args.js';
import type { Command } from './main.js';
import { commandInputs, MAX_MEMORY_FLAG, maxMemory, pathAndOutChecks } from './outputs.js';
import { checkVariantFlag, variantOption } from './cmd-forward.js';
import { plural } from './progress.js';
import { warnInFlagWords } from './errors.js';

export const encodeCommand: Command = {
  spec: {
    name: 'encode',
    quiet: true,
    first: pathAndOutChecks('encode'),
    summary: "encode a prompt with a pipeline's tokenizer and UMT5 text encoder (WanPipeline prompt_embeds)",
    usage: 'tessera encode --pipeline DIR --prompt P [--negative-prompt N] [--max-sequence-length N] [--variant NAME] [--stream auto|on|off] [--max-memory SIZE] --out OUT.safetensors',
    flags: {
      pipeline: { type: 'string', arg: 'DIR', help: 'diffusers pipeline folder with tokenizer/ (tokenizer.json) and text_encoder/ (UMT5EncoderModel)', required: true },
      prompt: { type: 'string', arg: 'TEXT', help: 'the prompt (cleaned as WanPipeline does: HTML entities, whitespace)', required: true },
      'negative-prompt': { type: 'string', arg: 'TEXT', help: 'also write negative_prompt_embeds for this prompt ("" is the pipeline default)' },
      'max-sequence-length': { type: 'int', arg: 'N', help: 'tokens per prompt: truncated (</s> kept) or zero-padded to N', default: DEFAULT_MAX_SEQUENCE_LENGTH },
      out: { type: 'string', arg: 'FILE', help: 'output safetensors: prompt_embeds F32 [1, N, d_model] (and negative_prompt_embeds)', required: true },
      stream: { type: 'choice', choices: ['auto', 'on', 'off'], default: 'auto', help: 'upload the encoder layer by layer (auto: when its weights exceed the budget, default 2 GiB)' },
      variant: { type: 'string', arg: 'NAME', help: "text_encoder/'s weight variant (e.g. fp16), as diffusers' variant=: model.NAME.safetensors" },
      'max-memory': MAX_MEMORY_FLAG,
    },
  },
  run(p) {
    // the library names its stream option; here the choice is --stream
    return encode(p).catch((e: unknown) => {
      throw e instanceof LimitError ? new LimitError(e.message.replace(LET_IT_STREAM, 'let it stream (--stream on, or --stream auto: the default when the weights exceed the budget)')) : e;
    });
  },
};

/**
 * --pipeline given one of a pipeline's component folders (transformer/, vae/, text_encoder/: a config.json of one, no
 * tokenizer/ beside it) is refused naming what it is and the pipeline folder above it, before anything is loaded (the
 * tokenizer's "tokenizer/tokenizer.json: missing" said nothing of the mix-up). @throws UsageError.
 */
function checkNotComponent(dir: string): void {
  if (existsSync(join(dir, 'tokenizer')) || existsSync(join(dir, 'model_index.json'))) return;
  let text: string | null = null;
  try {
    text = readFileSync(join(dir, 'config.json'), 'utf8');
  } catch {
    return; // no config.json (or unreadable): the loaders say what is missing
  }
  const kind = componentKindOfText(text);
  const root = dir.replace(/\/+$/, '');
  if (kind) throw new UsageError(`--pipeline ${dir}: ${componentWords(root, kind)}; give the pipeline folder that holds it (tokenizer/ and text_encoder/), ${parentFolder(root)}`);
}

/** `tessera encode` once its flags are parsed: the prompt (and negative prompt) encoded and written to --out. */
async function encode(p: Parsed): Promise<number> {
  const L = intInRange(p, 'max-sequence-length', 1, MAX_SEQUENCE_LENGTH);
  checkVariantFlag(p);
  await commandInputs(p); // no --inputs: the output and --pipeline checks
  const dir = p.pipeline as string;
  checkNotComponent(dir);
  const stream = p.stream === 'auto' ? undefined : p.stream === 'on';
  const enc = await loadTextEncoder({ tokenizer: nodeFolder(join(dir, 'tokenizer')), textEncoder: nodeFolder(join(dir, 'text_encoder')) }, { maxMemory: maxMemory(p), stream, ...variantOption(p) });
  try {
    const neg = p['negative-prompt'] as string | undefined;
    // a prompt cut at --max-sequence-length (how many tokens dropped) or empty, as generate says it (Pipeline.generate's notes)
    const notes = [...enc.promptNotes([p.prompt as string], L, () => 'prompt'), ...(neg !== undefined ? enc.promptNotes([neg], L, () => 'negative_prompt').filter((n) => n.kind !== 'empty') : [])];
    for (const { line } of notes) warnInFlagWords(line);
    const pos = await enc.encodePrompt([p.prompt as string], { max_sequence_length: L });
    const out = [{ name: 'prompt_embeds', shape: pos.shape, data: pos.data }];
    if (neg !== undefined) {
      const n = await enc.encodePrompt([neg], { max_sequence_length: L });
      out.push({ name: 'negative_prompt_embeds', shape: n.shape, data: n.data });
    }
    await writeOutputAtomic(p.out as string, out);
    const c = enc.encoder.config;
    console.error(`wrote ${p.out}: prompt_embeds [${pos.shape.join(',')}]${neg !== undefined ? ' and negative_prompt_embeds' : ''} (UMT5 ${plural(c.layers, 'layer')}, d_model ${c.dModel}, ${enc.encoder.mode})`);
    return 0;
  } finally {
    enc.dispose();
  }
}
