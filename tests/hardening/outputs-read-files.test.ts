// auditH item 2: no output of forward, generate (--model, --pipeline, embedded), decode or encode may be a
// file the run reads (weights, shards, configs, the pipeline's component files, --vae's files), by path,
// symlink or hard link: one UsageError line (exit 2) before any GPU work, and the file left as it was.
// Every case works on copies in a temp folder (or a link to the embedded pipeline), so a regression fails
// the test without damaging a fixture.
import { cpSync, linkSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { embeddedPipelineDir } from '../../src/cli/embedded.js';
import { FIXTURES, tempDir } from './helpers.js';

/** Runs main() in-process, capturing stderr lines. */
async function run(...argv: string[]): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(...a.join(' ').split('\n')));
  try {
    return { code: await main(argv), err: err.filter((l) => !l.startsWith('Warning: ')) };
  } finally {
    vi.restoreAllMocks();
  }
}
afterEach(() => vi.restoreAllMocks());

/** A temp copy of tests/fixtures/<sub>. */
function copy(sub: string): string {
  const d = join(tempDir(), sub.replace(/\//g, '_'));
  cpSync(join(FIXTURES, sub), d, { recursive: true });
  return d;
}

/** Runs argv; expects exit 2 with exactly `line`, and `file` unchanged. */
async function refused(file: string, line: string, ...argv: string[]): Promise<void> {
  const before = readFileSync(file);
  const r = await run(...argv);
  expect(r.err).toEqual([`tessera: error: UsageError: ${line}`]);
  expect(r.code).toBe(2);
  expect(readFileSync(file).equals(before)).toBe(true);
}

const over = 'writing the result would overwrite it; give another';

/**
 * A link named .safetensors to `file` (a config, an index, a tokenizer file: JSON): --out takes only .safetensors names
 * (a .json --out is refused by its extension first, `ext` below), so a JSON file the run reads can only be reached as
 * --out through a link, which the same-file check must still catch.
 */
function linkTo(file: string): string {
  const l = join(tempDir(), 'link.safetensors');
  symlinkSync(file, l);
  return l;
}
const ext = (path: string) => `--out ${path}: --out writes safetensors, so the name must end in .safetensors (not .json)`;

describe('outputs that are files the run reads', () => {
  it('forward: --out is the weights file or the config of --model', async () => {
    const m = join(copy('wan_small'), 'model');
    const inputs = join(FIXTURES, 'wan_small', 'inputs.safetensors');
    const w = join(m, 'diffusion_pytorch_model.safetensors');
    await refused(w, `--out ${w} is a weights file of --model ${m}: ${over} --out`, 'forward', '--model', m, '--inputs', inputs, '--out', w);
    const c = join(m, 'config.json');
    await refused(c, ext(c), 'forward', '--model', m, '--inputs', inputs, '--out', c);
    const cl = linkTo(c);
    await refused(c, `--out ${cl} is the config of --model ${m} (${c}, the same file): ${over} --out`, 'forward', '--model', m, '--inputs', inputs, '--out', cl);
  });

  it('forward: a symlink or a hard link to a weights file is the same file', async () => {
    const m = join(copy('wan_small'), 'model');
    const inputs = join(FIXTURES, 'wan_small', 'inputs.safetensors');
    const w = join(m, 'diffusion_pytorch_model.safetensors');
    const d = tempDir();
    const sym = join(d, 'sym.safetensors');
    symlinkSync(w, sym);
    await refused(w, `--out ${sym} is a weights file of --model ${m} (${w}, the same file): ${over} --out`, 'forward', '--model', m, '--inputs', inputs, '--out', sym);
    const hard = join(d, 'hard.safetensors');
    linkSync(w, hard);
    await refused(w, `--out ${hard} is a weights file of --model ${m} (${w}, the same file): ${over} --out`, 'forward', '--model', m, '--inputs', inputs, '--out', hard);
    // the --inputs file keeps its own wording, through a link too
    const lin = join(d, 'inputs-link.safetensors');
    symlinkSync(inputs, lin);
    await refused(inputs, `--out ${lin} is the --inputs file: writing the result would overwrite the inputs; give another --out`, 'forward', '--model', m, '--inputs', inputs, '--out', lin);
  });

  it('generate --model: the weights, and the scheduler config of the pipeline folder above', async () => {
    const p = copy('wan_pipeline_embeds/pipeline');
    const m = join(p, 'transformer');
    const inputs = join(FIXTURES, 'wan_pipeline_embeds', 'euler_b1.inputs.safetensors');
    const w = join(m, 'diffusion_pytorch_model.safetensors');
    await refused(w, `--out ${w} is a weights file of --model ${m}: ${over} --out`, 'generate', '--model', m, '--inputs', inputs, '--steps', '1', '--out', w);
    const s = join(p, 'scheduler', 'scheduler_config.json');
    await refused(s, ext(s), 'generate', '--model', m, '--inputs', inputs, '--steps', '1', '--out', s);
    const sl = linkTo(s);
    await refused(s, `--out ${sl} is the scheduler config read for --model ${m} (${s}, the same file): ${over} --out`, 'generate', '--model', m, '--inputs', inputs, '--steps', '1', '--out', sl);
  });

  it("generate --pipeline: the components' files, by --out or by --preview (a link)", async () => {
    const p = copy('wan_pipeline_embeds/pipeline');
    const inputs = join(FIXTURES, 'wan_pipeline_embeds', 'euler_b1.inputs.safetensors');
    const v = join(p, 'vae', 'diffusion_pytorch_model.safetensors');
    await refused(v, `--out ${v} is a weights file of --pipeline ${p} (vae/): ${over} --out`, 'generate', '--pipeline', p, '--inputs', inputs, '--steps', '1', '--out', v);
    const mi = join(p, 'model_index.json');
    await refused(mi, ext(mi), 'generate', '--pipeline', p, '--inputs', inputs, '--steps', '1', '--out', mi);
    const ml = linkTo(mi);
    await refused(mi, `--out ${ml} is the model index of --pipeline ${p} (${mi}, the same file): ${over} --out`, 'generate', '--pipeline', p, '--inputs', inputs, '--steps', '1', '--out', ml);
    const gif = join(tempDir(), 'clip.gif');
    symlinkSync(join(p, 'transformer', 'config.json'), gif);
    const out = join(tempDir(), 'o.safetensors');
    await refused(join(p, 'transformer', 'config.json'), `--preview ${gif} is the config of --pipeline ${p} (transformer/) (${join(p, 'transformer', 'config.json')}, the same file): ${over} --preview`, 'generate', '--pipeline', p, '--inputs', inputs, '--steps', '1', '--out', out, '--preview', gif);
  });

  it('generate without a folder: the embedded pipeline is named so (a link to its file; the file is not touched)', async () => {
    const cfg = join(embeddedPipelineDir(), 'transformer', 'config.json');
    const out = join(tempDir(), 'o.safetensors');
    symlinkSync(cfg, out);
    await refused(cfg, `--out ${out} is the config of the embedded tessera-shapes pipeline (transformer/) (${cfg}, the same file): ${over} --out`, 'generate', '--steps', '1', '--out', out);
  });

  it("decode: --out is a file of --vae; encode: --out is the pipeline's tokenizer file", async () => {
    const vae = join(copy('wan_vae_small'), 'vae');
    const c = join(vae, 'config.json');
    await refused(c, ext(c), 'decode', '--vae', vae, '--inputs', join(FIXTURES, 'wan_vae_small', 'inputs.safetensors'), '--out', c);
    const cl = linkTo(c);
    await refused(c, `--out ${cl} is the config of --vae ${vae} (${c}, the same file): ${over} --out`, 'decode', '--vae', vae, '--inputs', join(FIXTURES, 'wan_vae_small', 'inputs.safetensors'), '--out', cl);
    const p = copy('umt5_small/pipeline');
    const tok = join(p, 'tokenizer', 'tokenizer.json');
    await refused(tok, ext(tok), 'encode', '--pipeline', p, '--prompt', 'a cat', '--out', tok);
    const tl = linkTo(tok);
    await refused(tok, `--out ${tl} is a tokenizer file of --pipeline ${p} (tokenizer/) (${tok}, the same file): ${over} --out`, 'encode', '--pipeline', p, '--prompt', 'a cat', '--out', tl);
  });
});
