// `tessera generate --pipeline DIR --inputs FILE`: Pipeline.generate names its options (prompt_embeds,
// negative_prompt_embeds, latents); the CLI's user gave a file, so its refusals name the file and its
// tensors (encoder_hidden_states, negative_encoder_hidden_states, latents) — one line, exit 1, no output.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeOutputAtomic } from '../../src/io/node-write.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';

const PIPE = join(FIXTURES, 'wan_pipeline_embeds', 'pipeline'); // text_dim 16, in_channels 4, patch 1×2×2
const tmp = mkdtempSync(join(tmpdir(), 'tessera-pipeline-inputs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'tessera.mjs'), ...args], { cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' }, timeout: 300_000 }, (err, _out, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr });
    });
  });
}

const zeros = (name: string, shape: number[]) => ({ name, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

describe.skipIf(!hasGpu)('generate --pipeline --inputs: refusals name the file\'s tensors', () => {
  it('encoder_hidden_states of the wrong width, negative_encoder_hidden_states of another batch, latents off the patch grid', async () => {
    const cases: [ReturnType<typeof zeros>[], string][] = [
      [[zeros('latents', [1, 4, 2, 4, 4]), zeros('encoder_hidden_states', [1, 8, 31]), zeros('negative_encoder_hidden_states', [1, 8, 31])], `tensor "encoder_hidden_states": expected [B, L, 16] (B prompts, L tokens, the transformer's text_dim 16), found [1,8,31]`],
      [[zeros('latents', [1, 4, 2, 4, 4]), zeros('encoder_hidden_states', [1, 8, 16]), zeros('negative_encoder_hidden_states', [2, 8, 16])], `tensor "negative_encoder_hidden_states": expected [1, L', 16] (the batch and width of "encoder_hidden_states" [1,8,16]; any length L'), found [2,8,16]`],
      [[zeros('latents', [1, 4, 2, 4, 5]), zeros('encoder_hidden_states', [1, 8, 16]), zeros('negative_encoder_hidden_states', [1, 8, 16])], `tensor "latents" [1,4,2,4,5]: frames×height×width 2×4×5 must be multiples of the transformer's patch 1×2×2`],
    ];
    let i = 0;
    for (const [tensors, msg] of cases) {
      const file = join(tmp, `in${i}.safetensors`);
      const out = join(tmp, `out${i++}.safetensors`);
      await writeOutputAtomic(file, tensors);
      const r = await cli(['generate', '--pipeline', PIPE, '--inputs', file, '--steps', '1', '--guidance', '4', '--out', out]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('tessera: error'))).toEqual([`tessera: error: InputError: ${file}: ${msg}`]);
      expect(existsSync(out)).toBe(false);
    }
  }, 300_000);
});
