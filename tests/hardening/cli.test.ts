// Issue 5, "CLI contract": `--help` for every subcommand (bench benchmarks included); unknown flags
// and bad values are usage errors (exit 2) that list the valid ones; outputs are written to a
// temp name and renamed, and exit 0 comes only with every output written.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BENCH_SUBCOMMANDS } from '../../src/cli/cmd-bench.js';
import { loadCommands, main } from '../../src/cli/main.js';
import { writeFileAtomic } from '../../src/io/node-write.js';
import type { InputTensor } from '../../src/io/inputs.js';
import type { Parsed } from '../../src/cli/args.js';
import { generateConditioning } from '../../src/cli/model-inputs.js';
import { embeddedPipelineDir } from '../../src/cli/embedded.js';
import { PipelineError } from '../../src/pipeline/pipeline.js';
import { readFileSync } from 'node:fs';
import { InputError } from '../../src/model/model.js';
import { thrown } from '../helpers/errors.js';
import { hasGpu } from '../helpers/gpu.js';
import { cli, filesIn, FIXTURES, tempDir } from './helpers.js';

// every command's module (tessera's own run imports only the one it runs: main.ts)
const commands = await loadCommands();

/** Runs main() in-process, capturing stdout/stderr lines. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(...a.join(' ').split('\n')));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}
afterEach(() => vi.restoreAllMocks());

describe('--help', () => {
  it('top level: lists every command', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    for (const c of commands) expect(r.out).toContain(`  ${c.spec.name}`);
    const bare = await run(); // no command: help on stderr, but not success
    expect(bare.code).toBe(2);
    expect(bare.out).toBe('');
    expect(bare.err.join('\n')).toContain('usage: tessera <command>');
  });

  it.each(commands.map((c) => c.spec.name))('tessera %s --help: usage and every flag, exit 0', async (name) => {
    const spec = commands.find((c) => c.spec.name === name)!.spec;
    const r = await run(name, '--help');
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    expect(r.out).toMatch(new RegExp(`^tessera ${name} — `));
    expect(r.out).toContain('usage: tessera ' + name);
    for (const f of [...Object.keys(spec.flags), 'help', 'debug'].filter((f) => !(f in (spec.without ?? {})))) expect(r.out).toContain(`  --${f}`);
    for (const f of Object.keys(spec.without ?? {})) expect(r.out).not.toContain(`  --${f}`); // version: no --debug
  });

  it.each([...BENCH_SUBCOMMANDS])('tessera bench %s --help: that benchmark\'s usage and flags only', async (sub) => {
    const r = await run('bench', sub, '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^tessera bench ${sub} — `));
    expect(r.out).toContain(`usage: tessera bench ${sub}`);
    expect(r.out).not.toContain('validated benchmarks'); // the generic bench summary
    for (const f of ['json', 'help']) expect(r.out).toContain(`  --${f}`);
    const timed = ['dtype', 'repeats', 'warmup', 'trace', 'no-wall', 'no-ceiling'];
    if (!['plan', 'vae', 'ceiling'].includes(sub)) for (const f of timed) expect(r.out).toContain(`  --${f} `.trimEnd());
    const own: Record<string, string[]> = { gemm: ['m', 'k', 'n', 'tile'], attention: ['heads', 'tokens', 'head-dim', 'kv-tokens'], layernorm: ['rows', 'cols'], conv: ['height', 'width', 'in-channels', 'out-channels', 'kernel', 'variants'], block: ['hidden', 'heads', 'tokens'], suite: ['quick'], ceiling: [] };
    for (const f of own[sub] ?? []) expect(r.out).toContain(`  --${f} `.trimEnd());
    if (sub !== 'layernorm') expect(r.out).not.toContain('  --rows');
    if (sub !== 'gemm') expect(r.out).not.toMatch(/^ {2}--m /m);
  });

  it('tessera bench plan --help: its own summary, usage and flags; no timing flags; --batch defaults to 2 in both places', async () => {
    const r = await run('bench', 'plan', '--help');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('tessera bench plan — the memory plan of one denoising step, f16 and f32 (a dry run: no GPU, no weights; with --model only config.json is read)');
    expect(lines).toContain('usage: tessera bench plan --preset NAME | --model DIR [--frames F] [--height H] [--width W] [--text-len L] [--batch B] [--max-binding SIZE] [--json]');
    const flags = lines.filter((l) => l.startsWith('  --')).map((l) => l.trim().split(' ')[0]);
    expect(flags).toEqual(['--preset', '--model', '--frames', '--height', '--width', '--text-len', '--batch', '--max-binding', '--json', '--help', '--debug', '--no-tune', '--quiet']);
    expect(lines.find((l) => l.startsWith('  --batch'))).toMatch(/\(default 2\)$/);
    expect(r.out).not.toContain('default 1');
  });

  it('tessera bench gemm --help: gemm\'s summary and flags, each line about gemm only', async () => {
    const r = await run('bench', 'gemm', '--help');
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('tessera bench gemm — one GEMM x[M,K] · W[N,K]ᵀ + b, checked against float64, then timed (GPU timestamps)');
    expect(lines).toContain('usage: tessera bench gemm --m M --k K --n N [--tile K=V,...] [--variants LIST] [--json] [--dtype f32|f16] [--repeats N] [--warmup N] [--trace FILE] [--no-wall] [--no-ceiling]');
    const flags = lines.filter((l) => l.startsWith('  --')).map((l) => l.trim().split(' ')[0]);
    expect(flags).toEqual(['--m', '--k', '--n', '--tile', '--variants', '--json', '--dtype', '--repeats', '--warmup', '--trace', '--no-wall', '--no-ceiling', '--help', '--debug', '--no-tune', '--quiet']);
    expect(r.out).not.toMatch(/conv|attention|PX=/); // the shared lines name every benchmark's knobs
  });

  it('tessera bench vae --help: no --trace (refused there), --warmup, --no-wall or --no-ceiling', async () => {
    const r = await run('bench', 'vae', '--help');
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^tessera bench vae — VAE decodes/);
    const flags = lines.filter((l) => l.startsWith('  --')).map((l) => l.trim().split(' ')[0]);
    expect(flags).toEqual(['--vae-preset', '--vae', '--variant', '--frames', '--height', '--width', '--batch', '--seed', '--max-memory', '--json', '--dtype', '--repeats', '--help', '--debug', '--no-tune', '--quiet']);
    expect(lines.find((l) => l.startsWith('  --height'))).toContain('latent height (default 8 with --vae-preset; required with --vae)');
  });
});

describe('unknown flags and bad values: exit 2, one line listing the valid ones', () => {
  it.each(commands.map((c) => c.spec.name))('tessera %s --frobnicate', async (name) => {
    const spec = commands.find((c) => c.spec.name === name)!.spec;
    const r = await run(name, '--frobnicate', '3');
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(new RegExp(`^tessera: error: UsageError: tessera ${name}: unknown flag --frobnicate; valid flags: `));
    for (const f of Object.keys(spec.flags)) expect(r.err[0]).toContain(`--${f}`);
  });

  it.each([
    [['forward', '--model', 'm', '--inputs', 'i', '--out', 'o', '--dtype', 'f64'], '--dtype must be one of f32, f16, got "f64"'],
    [['generate', '--model', 'tests/fixtures/wan_small/model', '--out', 'o', '--scheduler', 'euler', '--steps', '2'], '--scheduler must be one of FlowMatchEulerDiscreteScheduler, DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler (or flow-match-euler, ddim, unipc, dpm-solver, dpmpp), got "euler" (did you mean flow-match-euler?)'],
    [['generate', '--model', 'm', '--out', 'o', '--scheduler', 'ddim', '--steps', 'ten'], '--steps must be an integer, got "ten"'],
    [['generate', '--model', 'tests/fixtures/wan_small/model', '--out', 'o', '--scheduler', 'ddim', '--steps', '0', '--seed', '1'], '--steps must be between 1 and 1000, got 0'],
    [['generate', '--model', 'm', '--out', 'o', '--scheduler', 'ddim', '--steps', '2', '--guidance', 'lots'], '--guidance must be a finite decimal number (e.g. 4, -0.5, 1e-3), got "lots"'],
    // a real folder without a scheduler config beside it (a missing one is refused first: generate-flags-cli.test.ts): only the classes whose defaults fit DiT
    [['generate', '--model', 'tests/fixtures/dit_small/model', '--out', 'o', '--steps', '2', '--seed', '0'], "scheduler_config.json): give --scheduler (DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler or ddim, unipc, dpm-solver, dpmpp: the class defaults that fit a DiT (epsilon) transformer), or put the model's scheduler_config.json there"],
    [['generate', '--pipeline', 'models/tessera-shapes', '--model', 'tests/fixtures/wan_small/model', '--out', 'o'], 'give --model DIR (a transformer folder) or --pipeline DIR (a pipeline folder with model_index.json), not both'],
    [['generate', '--pipeline', 'models/tessera-shapes', '--scheduler', 'euler', '--seed', '0', '--out', 'o'], '--scheduler must be one of FlowMatchEulerDiscreteScheduler, DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler (or flow-match-euler, ddim, unipc, dpm-solver, dpmpp), got "euler" (did you mean flow-match-euler?)'],
    [['generate', '--pipeline', 'models/tessera-shapes', '--seed', '0', '--out', 'o.safetensors', '--preview', 'clip.png'], '--preview clip.png: writes an animated GIF, so the name must end in .gif'],
    [['forward', '--model', 'tests/fixtures/wan_small/model', '--inputs', 'tests/fixtures/wan_small/inputs.safetensors', '--out', 'o', '--max-memory', '-3GiB'], '--max-memory: not a memory size: "-3GiB" (expected e.g. 512MiB, 2GiB or a number of bytes)'],
    // a path that does not exist is the first refusal (a fresh user's report: generate asked for --seed first),
    // also before a missing required flag
    [['generate', '--pipeline', '/nonexistent', '--out', 'x.safetensors'], '--pipeline /nonexistent: no such folder'],
    [['forward', '--model', '/nonexistent'], '--model /nonexistent: no such folder'],
    [['decode', '--inputs', '/nonexistent.safetensors', '--out', 'x.safetensors'], '--inputs /nonexistent.safetensors: no such file'],
    [['decode', '--vae', '/nonexistent', '--dtype', 'f16'], '--vae /nonexistent: no such folder'],
    [['encode', '--pipeline', '/nonexistent', '--max-sequence-length', '0'], '--pipeline /nonexistent: no such folder'],
    [['demo', '--pipeline', '/nonexistent', '--shift', '0'], '--pipeline /nonexistent: no such folder'],
    [['bench', 'model', '--model', '/nonexistent', '--text-len', '4'], '--model /nonexistent: no such folder'],
    // --out writes safetensors: a media name is refused, naming the flag that writes that format
    [['generate', '--out', 'x.gif'], '--out x.gif: --out writes safetensors (name it .safetensors); for an animated GIF give --preview FILE.gif'],
    [['generate', '--out', 'x.MP4', '--seed', '1'], '--out x.MP4: --out writes safetensors (name it .safetensors); for an MP4 give --video FILE.mp4'],
    [['forward', '--model', 'tests/fixtures/wan_small/model', '--inputs', 'tests/fixtures/wan_small/inputs.safetensors', '--out', 'x.png'], '--out x.png: --out writes safetensors (name it .safetensors); for PNG frames, tessera generate takes --frames-dir DIR'],
    [['decode', '--vae', 'models/tessera-shapes/vae', '--inputs', 'tests/fixtures/wan_small/inputs.safetensors', '--out', 'x.webm'], '--out x.webm: --out writes safetensors (name it .safetensors); for a video, tessera generate takes --video FILE.mp4 (H.264 MP4)'],
    [['encode', '--pipeline', 'models/tessera-shapes', '--prompt', 'a', '--out', 'x.jpg'], '--out x.jpg: --out writes safetensors (name it .safetensors); for pictures, tessera generate takes --frames-dir DIR (PNG frames) or --preview FILE.gif'],
    // a near name: "did you mean" instead of the list
    [['generate', '--promt', 'a fox'], 'tessera generate: unknown flag --promt (did you mean --prompt?)'],
    [['generate', '--negative_prompt', 'x'], 'tessera generate: unknown flag --negative_prompt (did you mean --negative-prompt?)'],
    [['bench', 'gem'], 'tessera bench: unknown benchmark "gem" (did you mean gemm?)'],
    [['bench', 'gemm', '--varients', 'all'], 'tessera bench gemm: unknown flag --varients (did you mean --variants?)'],
    [['demo', '--preset', 'sdxl'], '--preset must be one of'],
    [['demo', '--json'], 'unknown flag --json; valid flags: --help, --debug, --no-tune, --preset, --steps'],
    [['info', '--json=maybe'], '--json takes no value, or true/false/1/0, got "maybe"'],
    [['bench', 'matmul'], 'tessera bench: benchmark "matmul" is not one of ceiling, gemm, attention, layernorm'],
    [['bench'], 'tessera bench: missing benchmark (one of ceiling, gemm'],
    [['bench', 'gemm', '--m', '64', '--k', '64'], 'tessera bench gemm: missing --n'],
    [['bench', 'gemm', '--m', '64', '--k', '64', '--n', '64', '--rows', '3'], 'tessera bench gemm: --rows does not apply (it is a flag of bench layernorm)'],
    [['bench', 'gemm', '--m', '0', '--k', '64', '--n', '64'], '--m must be between 1 and'],
    [['bench', 'gemm', '--m', '8', '--k', '8', '--n', '8', '--tile', 'TM'], '--tile must look like KEY=INT'],
  ])('%j → usage error', async (argv, msg) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^tessera: error: UsageError: /);
    expect(r.err[0]).toContain(msg);
  });

  it('an unknown command lists the commands; --debug adds the stack, otherwise one line', async () => {
    const r = await run('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toEqual([`tessera: error: UsageError: unknown command "frobnicate"; commands: ${commands.map((c) => c.spec.name).join(', ')}`]);
    // a near name: "did you mean" (also through help, which runs CMD --help)
    for (const argv of [['genrate'], ['help', 'genrate']]) expect((await run(...argv)).err).toEqual(['tessera: error: UsageError: unknown command "genrate" (did you mean generate?)']);
    const d = await run('forward', '--model', 'm', '--inputs', 'i', '--out', 'o', '--dtype', 'f64', '--debug');
    expect(d.err.length).toBeGreaterThan(1);
    expect(d.err[1]).toMatch(/UsageError/);
  });
});

describe('input paths: checked before any GPU work, one UsageError naming the flag', () => {
  it('missing or wrong-type --inputs/--model/--vae/--pipeline, for every subcommand', async () => {
    const dir = tempDir();
    const out = join(dir, 'o.safetensors');
    const model = join(FIXTURES, 'wan_small', 'model');
    const inputs = join(FIXTURES, 'wan_small', 'inputs.safetensors');
    const pipe = join(FIXTURES, 'wan_pipeline_embeds', 'pipeline');
    const cases: [string[], string][] = [
      [['forward', '--model', model, '--inputs', '/nope.safetensors', '--out', out], '--inputs /nope.safetensors: no such file'],
      [['forward', '--model', model, '--inputs', dir, '--out', out], `--inputs ${dir}: not a regular file (expected a .safetensors file, got a folder)`],
      [['forward', '--model', inputs, '--inputs', inputs, '--out', out], `--model ${inputs}: not a folder (expected a diffusers model folder with config.json)`],
      [['forward', '--model', '/nope', '--inputs', inputs, '--out', out], '--model /nope: no such folder'],
      [['forward', '--model', pipe, '--inputs', inputs, '--out', out], `--model ${pipe}: a pipeline folder (it has model_index.json); give --pipeline DIR or --model ${join(pipe, 'transformer')}`],
      [['generate', '--model', model, '--inputs', '/nope.safetensors', '--out', out, '--steps', '2', '--scheduler', 'flow-match-euler'], '--inputs /nope.safetensors: no such file'],
      [['generate', '--pipeline', inputs, '--seed', '0', '--out', out], `--pipeline ${inputs}: not a folder (expected a diffusers pipeline folder with model_index.json)`],
      [['decode', '--vae', '/nope', '--inputs', inputs, '--out', out], '--vae /nope: no such folder'],
      [['decode', '--vae', pipe, '--inputs', inputs, '--out', out], `--vae ${pipe}: a pipeline folder (it has model_index.json); give --vae ${join(pipe, 'vae')}`],
      [['encode', '--pipeline', '/nope', '--prompt', 'a', '--out', out], '--pipeline /nope: no such folder'],
    ];
    for (const [argv, msg] of cases) {
      const r = await run(...argv);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([`tessera: error: UsageError: ${msg}`]);
    }
    expect(readdirSync(dir)).toEqual([]);
    // --variant reaches loadPipeline: a variant no component has is refused before any GPU work
    // (a folder whose text encoder tessera runs, with --prompt: a Wan folder with no text at all is refused before this)
    const v = await run('generate', '--pipeline', embeddedPipelineDir(), '--prompt', 'a', '--variant', 'fp16', '--seed', '0', '--height', '32', '--width', '32', '--frames', '5', '--out', out);
    expect(v.code).toBe(1);
    expect(v.err[v.err.length - 1]).toMatch(/^tessera: error: PipelineError: .*tessera-shapes: no component has the weight variant fp16 \(looked in transformer\/diffusion_pytorch_model\.fp16\.safetensors, vae\//);
  });
});

describe('generate inputs file', () => {
  it('a 4-D latents tensor for a video model is refused naming the tensor latents and the file', () => {
    const f = (shape: number[]) => ({ name: 'x', dtype: 'F32', shape, f32: new Float32Array(shape.reduce((a, b) => a * b, 1)) }) as unknown as InputTensor;
    const inputs = new Map([['latents', f([1, 4, 2, 2])], ['encoder_hidden_states', f([1, 3, 8])]]);
    const e = thrown(() => generateConditioning({ inputs: 'in.safetensors' } as unknown as Parsed, 'wan', inputs, false), InputError);
    expect(e.message).toBe('in.safetensors: tensor "latents" must be [B, C, F, H, W] (5 dims) for a wan model, found [1,4,2,2]');
  });
});

describe('the embedded pipeline ships with the package', () => {
  it('package.json "files" holds models/tessera-shapes; a package without it is one PipelineError line', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('models/tessera-shapes');
    const root = tempDir();
    const e = thrown(() => embeddedPipelineDir(root), PipelineError);
    expect(e.message).toBe(`${join(root, 'models', 'tessera-shapes')}/model_index.json: missing, so there is no embedded pipeline in this install (the package ships models/tessera-shapes): give --pipeline DIR or --model DIR`);
  });
});

describe('outputs: checked before work, temp name + rename, exit 0 only with everything written', () => {
  it('an output folder that does not exist is refused before any work (exit 2)', async () => {
    const dir = tempDir();
    const r = await run('forward', '--model', join(FIXTURES, 'wan_small', 'model'), '--inputs', join(FIXTURES, 'wan_small', 'inputs.safetensors'), '--out', join(dir, 'nope', 'out.safetensors'));
    expect(r.code).toBe(2);
    expect(r.err).toEqual([`tessera: error: UsageError: --out ${join(dir, 'nope', 'out.safetensors')}: the folder ${join(dir, 'nope')} does not exist`]);
    mkdirSync(join(dir, 'adir'));
    const g = await run('generate', '--model', join(FIXTURES, 'wan_sampler_small', 'model'), '--seed', '1', '--out', join(dir, 'out.safetensors'), '--preview', join(dir, 'adir'), '--scheduler', 'ddim', '--steps', '2');
    expect(g.code).toBe(2);
    expect(g.err[g.err.length - 1]).toContain(`--preview ${join(dir, 'adir')}: is a folder, expected a file name`);
    expect(readdirSync(dir)).toEqual(['adir']);
  });

  it('writeFileAtomic: a failed write leaves neither the file nor its temp file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'target'));
    mkdirSync(join(dir, 'target', 'x')); // rename over a non-empty folder fails
    await expect(writeFileAtomic(join(dir, 'target'), new Uint8Array(10))).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['target']);
    await writeFileAtomic(join(dir, 'ok.bin'), new Uint8Array([1, 2, 3]));
    expect(readdirSync(dir).sort()).toEqual(['ok.bin', 'target']);
  });

  it.skipIf(!hasGpu)('generate writes latents, preview and frames (no temp files left) and only then exits 0', async () => {
    const dir = tempDir();
    const c = join(FIXTURES, 'wan_sampler_small');
    const r = await cli(['generate', '--model', join(c, 'model'), '--inputs', join(c, 'inputs.safetensors'), '--out', join(dir, 'out.safetensors'), '--preview', join(dir, 'clip.gif'), '--frames-dir', join(dir, 'frames'), '--scheduler', 'flow-match-euler', '--steps', '2', '--guidance', '4']);
    expect(r.code, r.stderr).toBe(0);
    expect(filesIn(dir).sort()).toEqual(['clip.gif', 'frames', 'out.safetensors']);
    expect(readdirSync(join(dir, 'frames')).every((f) => /^frame-\d{3}\.png$/.test(f))).toBe(true);
    expect(existsSync(join(dir, 'frames', 'frame-000.png'))).toBe(true);
  });
});

describe('bench: a common flag the benchmark does not use is refused, not ignored (no GPU)', () => {
  it('plan times nothing; ceiling measures f32 and f16 itself; vae neither warms up nor measures the ceiling', async () => {
    const cases: [string[], string][] = [
      [['bench', 'plan', '--preset', 'wan-tiny', '--repeats', '3'], 'tessera bench plan: --repeats does not apply (bench plan takes --json of the common flags)'],
      [['bench', 'plan', '--preset', 'wan-tiny', '--no-wall'], 'tessera bench plan: --no-wall does not apply (bench plan takes --json of the common flags)'],
      [['bench', 'ceiling', '--dtype', 'f16'], 'tessera bench ceiling: --dtype does not apply (bench ceiling takes --json, --repeats, --warmup, --trace of the common flags)'],
      [['bench', 'vae', '--vae-preset', 'sd', '--warmup', '1'], 'tessera bench vae: --warmup does not apply (bench vae takes --json, --dtype, --repeats of the common flags)'],
    ];
    for (const [argv, msg] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toEqual([`tessera: error: UsageError: ${msg}`]);
    }
    // defaults are not "given": the same benchmarks run their checks past this point
    const ok = await run('bench', 'plan', '--preset', 'wan-tiny', '--json');
    expect(ok.code, ok.err.join('\n')).toBe(0);
  });
});

describe('bench plan --model: a config it cannot use is named by its path (no GPU)', () => {
  it('an unsupported _class_name', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ _class_name: 'NopeModel' }));
    const r = await run('bench', 'plan', '--model', dir);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`tessera: error: ConfigError: ${join(dir, 'config.json')}: _class_name "NopeModel" is not supported (expected WanTransformer3DModel, DiTTransformer2DModel, Transformer2DModel with norm_type "ada_norm_zero", or LatteTransformer3DModel)`]);
  });
});

describe('refused before any GPU work (new-user review): one UsageError line naming the flag, exit 2', () => {
  it('demo --out: an existing file or a path through a file (also --preset); --shift out of range or for a DDIM preset; --seed outside 32 bits', async () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const cases: [string[], string][] = [
      [['demo', '--out', file], `--out ${file}: ${file} is a file, expected a folder`],
      [['demo', '--out', join(file, 'sub')], `--out ${join(file, 'sub')}: ${file} (a part of the path) is a file, expected a folder`],
      [['demo', '--preset', 'dit-tiny', '--out', file], `--out ${file}: ${file} is a file, expected a folder`],
      [['demo', '--shift', '0', '--out', join(dir, 'o')], '--shift must be > 0, got 0'],
      [['demo', '--preset', 'dit-tiny', '--shift', '5', '--out', join(dir, 'o')], '--shift applies to flow-match models (the Wan presets); dit-tiny samples with DDIM, which has no shift'],
      // the noise generator's seed is 32 bits: other values would alias one of them
      [['demo', '--seed', '-1', '--out', join(dir, 'o')], "--seed: an integer in 0..4294967295 (the noise generator's seed is 32 bits), got -1"],
      [['demo', '--seed', '4294967296', '--out', join(dir, 'o')], "--seed: an integer in 0..4294967295 (the noise generator's seed is 32 bits), got 4294967296"],
      [['demo', '--preset', 'dit-tiny', '--seed', '-2', '--out', join(dir, 'o')], "--seed: an integer in 0..4294967295 (the noise generator's seed is 32 bits), got -2"],
    ];
    for (const [argv, msg] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toEqual([`tessera: error: UsageError: ${msg}`]);
    }
    expect(readdirSync(dir)).toEqual(['a-file']);
    // a folder that passes access(W_OK) as root but refuses mkdir (sysfs): still one line, exit 2
    if (existsSync('/sys/kernel')) {
      const r = await run('demo', '--out', '/sys/tessera-demo-out');
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toEqual([expect.stringMatching(/^tessera: error: UsageError: --out \/sys\/tessera-demo-out: (the folder \/sys is not writable \(E[A-Z]+: [^)]+\)|cannot create the folder: .+ \(E[A-Z]+\))$/)]);
    }
  });

  it('bench: --trace destination, --head-dim, a --variants revision that does not exist', async () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const gemm = ['bench', 'gemm', '--m', '8', '--k', '8', '--n', '8'];
    const cases: [string[], string][] = [
      [[...gemm, '--trace', join(dir, 'nope', 't.json')], `--trace ${join(dir, 'nope', 't.json')}: the folder ${join(dir, 'nope')} does not exist`],
      [['bench', 'ceiling', '--trace', join(file, 't.json')], `--trace ${join(file, 't.json')}: ${file} is a file, expected a folder`],
      [['bench', 'suite', '--quick', '--trace', dir], `--trace ${dir}: is a folder, expected a file name`],
      [['bench', 'vae', '--vae-preset', 'sd', '--trace', join(dir, 't.json')], '--trace: bench vae writes no trace (bench ceiling, gemm, attention, layernorm, conv, block, model and suite do)'],
      [[...gemm, '--variants', 'default;tiled-64', '--trace', join(dir, 't.json')], '--trace: bench --variants writes no trace'],
      [['bench', 'attention', '--heads', '2', '--tokens', '64', '--head-dim', '7'], '--head-dim 7 is not supported by the attention kernels (need a multiple of 4 from 8 to 128)'],
      [['bench', 'block', '--hidden', '14', '--heads', '2', '--tokens', '4'], '--hidden 14 / --heads 2 = head dim 7, which the attention kernels do not support'],
      [[...gemm, '--variants', 'default@nosuchrev;default'], '--variants …@nosuchrev: cannot read kernels/'],
    ];
    for (const [argv, msg] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toContain(`tessera: error: UsageError: ${msg}`);
    }
    expect(readdirSync(dir)).toEqual(['a-file']);
  });

  it.skipIf(!hasGpu)('bench --tile / --variants knobs the kernel refuses, shapes no buffer holds: after the adapter, before the device ceiling', async () => {
    let r = await cli(['bench', 'gemm', '--m', '64', '--k', '96', '--n', '80', '--tile', 'TM=3']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.errLines).toEqual(['tessera: error: UsageError: --tile TM=3: gemm: TM=3: must be 4 or 8 (one or two row quads per invocation)']);
    r = await cli(['bench', 'attention', '--heads', '1', '--tokens', '4', '--head-dim', '8', '--variants', 'default;WG=5']);
    expect(r.code).toBe(2);
    expect(r.stdout + r.errLines.slice(0, -1).join('\n')).toBe('');
    expect(r.errLines).toEqual(['tessera: error: UsageError: --variants "WG=5": attention: tile WG=5 is not one of 64, 32, 128, 16']);
    // a shape no buffer of the adapter holds: refused before 16 GiB of random data are generated (that took minutes)
    // (a limit of the adapter, not a malformed flag: LimitError, exit 1)
    r = await cli(['bench', 'gemm', '--m', '1048576', '--k', '4096', '--n', '8']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.errLines).toEqual([expect.stringMatching(/^tessera: error: LimitError: bench gemm: x \[M, K\] needs 16\.00 GiB \(4294967296 × 4 bytes, f32\), more than this adapter binds in one buffer \(.*, maxStorageBufferBindingSize\/maxBufferSize\); use smaller --m\/--k$/)]);
  });

  it('forward/decode --out naming the --inputs file', async () => {
    const inputs = join(FIXTURES, 'wan_small', 'inputs.safetensors');
    const before = readFileSync(inputs);
    const f = await run('forward', '--model', join(FIXTURES, 'wan_small', 'model'), '--inputs', inputs, '--out', inputs);
    expect(f.code).toBe(2);
    expect(f.err).toEqual([`tessera: error: UsageError: --out ${inputs} is the --inputs file: writing the result would overwrite the inputs; give another --out`]);
    const rel = join('tests', 'fixtures', 'wan_small', '..', 'wan_small', 'inputs.safetensors');
    const d = await run('decode', '--vae', join(FIXTURES, 'wan_pipeline_embeds', 'pipeline', 'vae'), '--inputs', inputs, '--out', rel);
    expect(d.code).toBe(2);
    expect(d.err).toEqual([`tessera: error: UsageError: --out ${rel} is the --inputs file: writing the result would overwrite the inputs; give another --out`]);
    expect(readFileSync(inputs).equals(before)).toBe(true);
  });

  it('a flag given twice', async () => {
    const r = await run('generate', '--model', 'm', '--out', 'o', '--steps', '1', '--steps', '2');
    expect(r.code).toBe(2);
    expect(r.err).toEqual(['tessera: error: UsageError: tessera generate: --steps is given more than once; give it once']);
    const b = await run('bench', 'gemm', '--m', '8', '--k', '8', '--n', '8', '--json', '--json');
    expect(b.code).toBe(2);
    expect(b.err).toEqual(['tessera: error: UsageError: tessera bench gemm: --json is given more than once; give it once']);
  });

  it('--version and version print the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(FIXTURES, '..', '..', 'package.json'), 'utf8')) as { version: string };
    for (const v of ['--version', 'version']) {
      const r = await run(v);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`tessera ${version}`);
    }
    expect((await run('--version', 'x')).code).toBe(2);
  });
});
