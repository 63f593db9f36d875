// A user's own diffusers-saved folders through the CLI and the library (audit 13 U 1, 3, 4, 6, 9): a LattePipeline with its
// T5EncoderModel run from --inputs embeddings, `encode` → `generate --inputs`, variant-only folders (bench model
// --variant, the library call each hint names), .bin-only folders, and --scheduler on a config its class cannot take.
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readInputs } from '../../src/io/inputs.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { loadPipeline, PipelineError } from '../../src/pipeline/pipeline.js';
import { tesseraCli, tesseraInProcess } from '../helpers/cli.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { InputError } from '../../src/model/model.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-own-folders-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(tmp, `${n++}-${name}`);

const errLines = (stderr: string) => stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Warning: ') && !/^[\w ]+ \d+\/\d+  \d+\.\d s( elapsed)?$/.test(l));
/** `tessera ...args`: exit code and stderr's lines without progress lines and Dawn's warnings. */
async function run(...args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const r = await tesseraCli(args, { timeoutMs: 180_000 });
  return { code: r.code, lines: errLines(r.stderr) };
}
/**
 * As run, through the CLI's entry in this process (main(), whose return the launcher exits with): for the refusals,
 * which come before any kernel runs, where a spawn only added two Node starts and a module load. The runs that
 * succeed stay spawned (GPU work in a process of its own), and so does one refusal ('a LattePipeline folder …').
 */
async function refused(...args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const r = await tesseraInProcess(args);
  return { code: r.code, lines: errLines(r.stderr) };
}

const f32 = (name: string, shape: number[], seed: number) => ({ name, dtype: 'F32' as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37 + seed)) });

/**
 * A LattePipeline folder as diffusers saves Latte-1's: text_encoder T5EncoderModel and its tokenizer listed (their
 * folders absent: the run from embeddings must not read them), the transformer of latte_small, DDIM, no VAE.
 */
function lattePipeline(): string {
  const dir = fresh('latte');
  mkdirSync(join(dir, 'scheduler'), { recursive: true });
  cpSync(join(FIXTURES, 'latte_small', 'model'), join(dir, 'transformer'), { recursive: true });
  writeFileSync(join(dir, 'scheduler', 'scheduler_config.json'), JSON.stringify({ _class_name: 'DDIMScheduler', beta_schedule: 'linear', clip_sample: false }));
  writeFileSync(
    join(dir, 'model_index.json'),
    JSON.stringify({
      _class_name: 'LattePipeline',
      scheduler: ['diffusers', 'DDIMScheduler'],
      text_encoder: ['transformers', 'T5EncoderModel'],
      tokenizer: ['transformers', 'T5Tokenizer'],
      transformer: ['diffusers', 'LatteTransformer3DModel'],
      vae: [null, null],
    }),
  );
  return dir;
}

/** A copy of `from` whose weights file `rel` is renamed to `to` (a variant-only or .bin-only folder). */
function renamedWeights(from: string, rel: string, to: string): string {
  const dir = fresh('folder');
  cpSync(from, dir, { recursive: true });
  renameSync(join(dir, rel), join(dir, to));
  return dir;
}

describe('loadPipeline: a text encoder tessera does not run', () => {
  it('asked for (textEncoder: true or its options), it is refused from model_index.json alone, before any weight is read (the transformer has none here)', async () => {
    const dir = lattePipeline();
    rmSync(join(dir, 'transformer', 'diffusion_pytorch_model.safetensors'));
    for (const textEncoder of [true, { stream: true }] as const) {
      const e = await loadPipeline(nodeFolder(dir), { textEncoder }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect((e as Error).message).toBe(`${dir}/model_index.json: "text_encoder" is T5EncoderModel; tessera's text encoder is UMT5EncoderModel (WanPipeline); pass textEncoder: false (or leave it out) and give prompt_embeds`);
      expect(e).toBeInstanceOf(PipelineError);
    }
  });

  it.skipIf(!hasGpu)('by default the pipeline loads without it, as generate --pipeline --inputs runs; a prompt is refused naming the class and prompt_embeds', async () => {
    const dir = lattePipeline();
    const pipe = await loadPipeline(nodeFolder(dir), { gpu: gpu! });
    try {
      expect(pipe.textEncoder).toBeUndefined();
      const e = await pipe.generate({ prompt: 'a cat', seed: 0, height: 48, width: 48, num_frames: 2, num_inference_steps: 1 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toBe(`prompt: the text encoder of ${dir} is T5EncoderModel (model_index.json), which tessera does not run (it encodes prompts with UMT5EncoderModel, WanPipeline's): give prompt_embeds [B, L, dim] (and, with guidance_scale > 1, negative_prompt_embeds) instead`);
      const r = await pipe.generate({ prompt_embeds: f32('p', [1, 4, 16], 1), negative_prompt_embeds: f32('n', [1, 4, 16], 2), latents: f32('l', [1, 4, 2, 6, 6], 0), num_inference_steps: 1, guidance_scale: 3, output_type: 'latent' });
      expect(r.latents.shape).toEqual([1, 4, 2, 6, 6]);
    } finally {
      pipe.dispose();
    }
  });
});

describe.skipIf(!hasGpu)('a LattePipeline folder with T5EncoderModel (as Latte-1 ships)', () => {
  it('generate --pipeline --inputs with the embeddings runs without reading the text encoder; --prompt is refused (exit 2) naming the tensors; demo advises that command', async () => {
    const dir = lattePipeline();
    const inputs = fresh('latte_inputs.safetensors');
    writeFileSync(inputs, writeSafetensors([f32('latents', [1, 4, 2, 6, 6], 0), f32('encoder_hidden_states', [1, 4, 16], 1), f32('negative_encoder_hidden_states', [1, 4, 16], 2)]));
    const out = fresh('o.safetensors');
    const g = await run('generate', '--pipeline', dir, '--inputs', inputs, '--out', out, '--steps', '1', '--guidance', '3');
    expect(g.code, g.lines.join('\n')).toBe(0);
    expect(g.lines[g.lines.length - 1]).toMatch(new RegExp(`^wrote ${out}: latents \\[1,4,2,6,6\\] after 1 step in \\d+\\.\\d s \\(LattePipeline, DDIMScheduler, no VAE in ${dir}: latents only; latte 2 layers, `));

    const p = await run('generate', '--pipeline', dir, '--prompt', 'a cat', '--seed', '0', '--height', '48', '--width', '48', '--frames', '2', '--out', fresh('p.safetensors'));
    expect(p.lines).toEqual([
      `tessera: error: UsageError: --prompt: the text encoder of ${dir} is T5EncoderModel (model_index.json); tessera encodes prompts with UMT5EncoderModel (WanPipeline's) only: drop --prompt and give the text embeddings in --inputs FILE: encoder_hidden_states [B, L, dim] and, with guidance > 1, negative_encoder_hidden_states (or the pipeline names prompt_embeds and negative_prompt_embeds, as tessera encode writes them)`,
    ]);
    expect(p.code).toBe(2);

    // the way out demo names is the command that ran above
    const d = await refused('demo', '--pipeline', dir, '--out', fresh('demo'));
    expect(d.code).toBe(2);
    expect(d.lines[d.lines.length - 1]).toContain(`with prompt embeddings use tessera generate --pipeline ${dir} --inputs FILE`);
  });
});

describe.skipIf(!hasGpu)('--prompt on a pipeline saved with text_encoder=None', () => {
  it('is refused before any weight is read (exit 2), naming the tensors --inputs takes instead', async () => {
    const pipe = join(FIXTURES, 'wan_pipeline_embeds', 'pipeline');
    const r = await refused('generate', '--pipeline', pipe, '--prompt', 'a cat', '--seed', '0', '--height', '32', '--width', '32', '--frames', '5', '--steps', '1', '--out', fresh('o.safetensors'));
    expect(r.lines).toEqual([
      `tessera: error: UsageError: --prompt: ${pipe} has no text encoder (its model_index.json lists no text_encoder and tokenizer); drop --prompt and give the text embeddings in --inputs FILE: encoder_hidden_states [B, L, dim] and, with guidance > 1, negative_encoder_hidden_states (or the pipeline names prompt_embeds and negative_prompt_embeds, as tessera encode writes them)`,
    ]);
    expect(r.code).toBe(2);
  });
});

describe.skipIf(!hasGpu)('encode → generate --inputs', () => {
  it("generate takes encode's prompt_embeds/negative_prompt_embeds: the same latents as --prompt", async () => {
    const pipe = join(ROOT, 'models', 'tessera-shapes');
    const prompt = 'a red circle moving left';
    // one frame: the latents are what is compared, and one latent frame is a third of the VAE work of 9 frames
    const seeded = ['--seed', '0', '--height', '32', '--width', '32', '--frames', '1', '--steps', '1'];
    const enc = fresh('enc.safetensors');
    const e = await run('encode', '--pipeline', pipe, '--prompt', prompt, '--negative-prompt', '', '--out', enc);
    expect(e.code, e.lines.join('\n')).toBe(0);
    const viaFile = fresh('a.safetensors');
    const a = await run('generate', '--pipeline', pipe, '--inputs', enc, ...seeded, '--out', viaFile);
    expect(a.code, a.lines.join('\n')).toBe(0);
    const viaPrompt = fresh('b.safetensors');
    const b = await run('generate', '--pipeline', pipe, '--prompt', prompt, '--negative-prompt', '', ...seeded, '--out', viaPrompt);
    expect(b.code, b.lines.join('\n')).toBe(0);
    const [x, y] = [(await readInputs(viaFile)).get('latents')!.f32!, (await readInputs(viaPrompt)).get('latents')!.f32!];
    expect(x.length).toBe(y.length);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  // one family of names per file: both names of one tensor, or a positive of one family beside the other's
  // negative, is refused before any weight is read
  const why = "text embeddings under the transformer's names (encoder_hidden_states, negative_encoder_hidden_states) or the pipeline's (prompt_embeds, negative_prompt_embeds), one pair, not both";
  it.each([
    ['both names of one tensor', ['encoder_hidden_states', 'prompt_embeds'], '"encoder_hidden_states" and "prompt_embeds"'],
    ['a mixed pair', ['encoder_hidden_states', 'negative_prompt_embeds'], '"encoder_hidden_states" and "negative_prompt_embeds"'],
  ])('%s is refused before any weight is read', async (_, names, shown) => {
    const inputs = fresh('both.safetensors');
    writeFileSync(inputs, writeSafetensors([f32('latents', [1, 4, 2, 4, 4], 0), ...names.map((n) => f32(n, [1, 8, 16], 1))]));
    const r = await refused('generate', '--pipeline', join(FIXTURES, 'wan_pipeline_embeds', 'pipeline'), '--inputs', inputs, '--out', fresh('o.safetensors'), '--guidance', '1', '--steps', '1');
    expect(r.lines).toEqual([`tessera: error: InputError: ${inputs}: holds ${shown}: ${why}`]);
    expect(r.code).toBe(1);
  });
  it('a Wan pipeline with neither --prompt nor text in --inputs: one UsageError before the weights load', async () => {
    const pipe = join(ROOT, 'models', 'tessera-shapes');
    const r = await refused('generate', '--pipeline', pipe, '--seed', '0', '--height', '32', '--width', '32', '--frames', '9', '--steps', '1', '--out', fresh('o.safetensors'));
    expect(r.lines).toEqual([`tessera: error: UsageError: --pipeline ${pipe}: a WanPipeline needs text: give --prompt, or --inputs FILE with encoder_hidden_states [B, L, dim] and, with guidance > 1, negative_encoder_hidden_states (or the pipeline names prompt_embeds and negative_prompt_embeds, as tessera encode writes them)`]);
    expect(r.code).toBe(2);
  });
  it("encode without --negative-prompt, generate with guidance: the missing tensor is named in the file's own terms", async () => {
    const inputs = fresh('pos.safetensors');
    writeFileSync(inputs, writeSafetensors([f32('latents', [1, 4, 2, 4, 4], 0), f32('prompt_embeds', [1, 8, 16], 1)]));
    const r = await refused('generate', '--pipeline', join(FIXTURES, 'wan_pipeline_embeds', 'pipeline'), '--inputs', inputs, '--out', fresh('o.safetensors'), '--guidance', '5', '--steps', '1');
    expect(r.lines).toEqual([`tessera: error: InputError: ${inputs}: missing tensor "negative_prompt_embeds" (expected latents, encoder_hidden_states, negative_encoder_hidden_states, prompt_embeds, negative_prompt_embeds)`]);
    expect(r.code).toBe(1);
  });
});

describe.skipIf(!hasGpu)('--scheduler on a config its class cannot take', () => {
  const unipc = join(ROOT, 'models', 'tessera-shapes', 'scheduler', 'scheduler_config.json');
  const line = `tessera: error: UsageError: --scheduler ddim: ${unipc}: prediction_type "flow_prediction" is not one of DDIMScheduler's values (epsilon, v_prediction, sample); this config works with --scheduler flow-match-euler, unipc, dpm-solver`;
  it('generate --pipeline: exit 2 naming --scheduler and the classes that take the config', async () => {
    const r = await refused('generate', '--pipeline', join(ROOT, 'models', 'tessera-shapes'), '--scheduler', 'ddim', '--seed', '0', '--height', '32', '--width', '32', '--frames', '9', '--steps', '1', '--out', fresh('o.safetensors'));
    expect(r.lines).toEqual([line]);
    expect(r.code).toBe(2);
  });
  it('generate --model (../scheduler): the same line, no ignored-keys warning before it', async () => {
    const r = await refused('generate', '--model', join(ROOT, 'models', 'tessera-shapes', 'transformer'), '--scheduler', 'ddim', '--seed', '0', '--height', '4', '--width', '4', '--frames', '3', '--steps', '1', '--out', fresh('o.safetensors'));
    expect(r.lines).toEqual([line]);
    expect(r.code).toBe(2);
  });
});

describe.skipIf(!hasGpu)('variant-only folders: --variant where the hint says (the flag, not the library call)', () => {
  // the flag only: the library's own call (`load it with loadModel(dir, { variant: 'fp16' })`) is the library user's wording
  const hint = (dir: string) =>
    `tessera: error: ModelFolderError: ${dir}/diffusion_pytorch_model.safetensors: neither diffusion_pytorch_model.safetensors nor diffusion_pytorch_model.safetensors.index.json found; the folder has the weight variant fp16 (diffusion_pytorch_model.fp16.safetensors): pass --variant fp16`;

  it('bench model: --variant in the hint, and --variant fp16 runs it; --variant with --preset is refused', async () => {
    const dir = renamedWeights(join(FIXTURES, 'wan_small', 'model'), 'diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.fp16.safetensors');
    const size = ['--height', '4', '--width', '4', '--frames', '2', '--repeats', '1', '--warmup', '0', '--no-wall', '--no-ceiling'];
    const no = await refused('bench', 'model', '--model', dir, ...size);
    expect(no.lines[no.lines.length - 1]).toBe(hint(dir));
    expect(no.code).toBe(1);
    const yes = await run('bench', 'model', '--model', dir, '--variant', 'fp16', ...size);
    expect(yes.code, yes.lines.join('\n')).toBe(0);
    const preset = await refused('bench', 'model', '--preset', 'wan-tiny', '--variant', 'fp16');
    expect(preset.lines).toEqual(["tessera: error: UsageError: --variant names a folder's weight files: it applies with --model DIR, not --preset (whose weights are made on the GPU)"]);
    expect(preset.code).toBe(2);
  });

  it('encode: --variant in the hint, and --variant fp16 encodes', async () => {
    const pipe = fresh('pipe');
    for (const sub of ['tokenizer', 'text_encoder']) cpSync(join(ROOT, 'models', 'tessera-shapes', sub), join(pipe, sub), { recursive: true });
    renameSync(join(pipe, 'text_encoder', 'model.safetensors'), join(pipe, 'text_encoder', 'model.fp16.safetensors'));
    const no = await refused('encode', '--pipeline', pipe, '--prompt', 'a red circle', '--out', fresh('e.safetensors'));
    expect(no.lines[no.lines.length - 1]).toBe(
      `tessera: error: ModelFolderError: ${pipe}/text_encoder/model.safetensors: neither model.safetensors nor model.safetensors.index.json found; the folder has the weight variant fp16 (model.fp16.safetensors): pass --variant fp16`,
    );
    expect(no.code).toBe(1);
    const yes = await run('encode', '--pipeline', pipe, '--prompt', 'a red circle', '--variant', 'fp16', '--max-sequence-length', '16', '--out', fresh('e.safetensors'));
    expect(yes.code, yes.lines.join('\n')).toBe(0);
  });

  it('demo --pipeline: --variant in the hint, and --variant fp16 runs it; --variant without --pipeline is refused', async () => {
    const pipe = renamedWeights(join(ROOT, 'models', 'tessera-shapes'), 'transformer/diffusion_pytorch_model.safetensors', 'transformer/diffusion_pytorch_model.fp16.safetensors');
    const no = await refused('demo', '--pipeline', pipe, '--steps', '1', '--repeats', '1', '--out', fresh('demo'));
    expect(no.lines[no.lines.length - 1]).toBe(hint(`${pipe}/transformer`));
    expect(no.code).toBe(1);
    const yes = await run('demo', '--pipeline', pipe, '--variant', 'fp16', '--steps', '1', '--repeats', '1', '--out', fresh('demo'));
    expect(yes.code, yes.lines.join('\n')).toBe(0);
    const embedded = await refused('demo', '--variant', 'fp16', '--out', fresh('demo'));
    expect(embedded.lines).toEqual(['tessera: error: UsageError: --variant names the weight files of a --pipeline DIR folder; the embedded pipeline has one set']);
    expect(embedded.code).toBe(2);
  });

  it('generate --pipeline and decode --vae: the flag in the hint', async () => {
    const pipe = renamedWeights(join(FIXTURES, 'wan_pipeline_embeds', 'pipeline'), 'transformer/diffusion_pytorch_model.safetensors', 'transformer/diffusion_pytorch_model.fp16.safetensors');
    const g = await refused('generate', '--pipeline', pipe, '--inputs', join(FIXTURES, 'wan_pipeline_embeds', 'euler_b1.inputs.safetensors'), '--steps', '1', '--out', fresh('o.safetensors'));
    expect(g.lines[g.lines.length - 1]).toBe(hint(`${pipe}/transformer`));
    expect(g.code).toBe(1);
    const vae = renamedWeights(join(FIXTURES, 'wan_pipeline_embeds', 'pipeline', 'vae'), 'diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.fp16.safetensors');
    const d = await refused('decode', '--vae', vae, '--inputs', join(FIXTURES, 'wan_pipeline_embeds', 'euler_b1.expected.safetensors'), '--out', fresh('d.safetensors'));
    expect(d.lines[d.lines.length - 1]).toBe(hint(vae));
    expect(d.code).toBe(1);
  });
});

describe.skipIf(!hasGpu)('a folder with PyTorch .bin weights only', () => {
  it('names the .bin, says tessera reads safetensors only, and gives the line that converts it', async () => {
    const dir = renamedWeights(join(FIXTURES, 'wan_small', 'model'), 'diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.bin');
    const out = fresh('o.safetensors');
    const r = await refused('forward', '--model', dir, '--inputs', join(FIXTURES, 'wan_small', 'inputs.safetensors'), '--out', out);
    expect(r.lines).toEqual([
      `tessera: error: ModelFolderError: ${dir}/diffusion_pytorch_model.safetensors: neither diffusion_pytorch_model.safetensors nor diffusion_pytorch_model.safetensors.index.json found; the folder has diffusion_pytorch_model.bin: PyTorch pickle weights, which tessera does not read (safetensors only); convert them once: python -c "from diffusers import WanTransformer3DModel as M; M.from_pretrained('${dir}').save_pretrained('${dir}')"`,
    ]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });
});
