// --variant names weight files X.NAME.safetensors, so it must be a plain name: a path ("../x", "a/b")
// or an empty name is the flag's problem, one UsageError line naming --variant (exit 2), given before
// any file is read (here every path is missing, and the variant is still what is refused). The library
// keeps its own check (ModelFolderError from openModelFolder, InputError from loadModel).
import { describe, expect, it } from 'vitest';
import { tesseraCli } from '../helpers/cli.js';

const WHY = 'a weight variant is a plain name of letters, digits, _ and - (e.g. fp16 or bf16; it picks the weights files X.NAME.safetensors: diffusion_pytorch_model.NAME.safetensors, a text encoder\'s model.NAME.safetensors)';
const NONE = '/nonexistent/tessera-variant';

describe('--variant that is not a plain name: UsageError, exit 2, before any file is read', () => {
  it.each([
    ['forward', '../x', ['forward', '--model', NONE, '--inputs', `${NONE}.safetensors`, '--out', `${NONE}-o.safetensors`]],
    ['generate --model', '', ['generate', '--model', NONE, '--inputs', `${NONE}.safetensors`, '--out', `${NONE}-o.safetensors`, '--steps', '2']],
    ['generate --pipeline', 'fp16/../x', ['generate', '--pipeline', NONE, '--seed', '0', '--out', `${NONE}-o.safetensors`]],
    ['encode', 'fp16/x', ['encode', '--pipeline', NONE, '--prompt', 'a cat', '--out', `${NONE}-o.safetensors`]],
    ['demo --pipeline', '.', ['demo', '--pipeline', NONE, '--out', `${NONE}-d`]],
    ['decode', 'a b', ['decode', '--vae', NONE, '--inputs', `${NONE}.safetensors`, '--out', `${NONE}-o.safetensors`]],
  ])('%s --variant %j', async (_, variant, args) => {
    const r = await tesseraCli([...args, '--variant', variant]);
    expect(r.stderr.trim()).toBe(`tessera: error: UsageError: --variant ${JSON.stringify(variant)}: ${WHY}`);
    expect(r.code).toBe(2);
  });
});
