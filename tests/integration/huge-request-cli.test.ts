// Requests whose shapes a model cannot take, or whose size is far past the GPU's limits, are one line
// before their tensors are allocated or read: generate --seed with latents past Wan's rope_max_seq_len
// (81×4800×8320: the noise alone is 5.2e10 values, a RangeError from randn before; sizes from flags, so a
// UsageError naming them, tests/integration/rope-limit-cli.test.ts), and forward --inputs
// whose header declares huge hidden_states (a sparse file: the data is a hole; it used to be read whole,
// 'RangeError: Invalid typed array length').
import { existsSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, filesIn, FIXTURES, inputsWith, tempDir } from '../hardening/helpers.js';
import { bytesReadEnv } from '../helpers/cli.js';

const ROPE_LINE =
  "tessera: error: InputError: hidden_states: [1,4,81,4800,8320] gives a grid of 81×2400×4160 (frames×height×width after patch_size 1×2×2), beyond config.json's rope_max_seq_len 1024 in height and width: " +
  "the 3-D RoPE has 1024 positions per axis (diffusers' WanRotaryPosEmbed); use latents of at most 1024×2048×2048 frames×height×width, or raise rope_max_seq_len in config.json";

/** A forward inputs file for wan_sampler_small whose timestep and text are real and whose hidden_states (F32 `shape`) are a hole. */
function sparseForwardInputs(file: string, shape: number[]): void {
  const text = 6 * 24 * 4;
  const hs = shape.reduce((a, b) => a * b, 4);
  const header = Buffer.from(
    JSON.stringify({
      timestep: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      encoder_hidden_states: { dtype: 'F32', shape: [1, 6, 24], data_offsets: [4, 4 + text] },
      hidden_states: { dtype: 'F32', shape, data_offsets: [4 + text, 4 + text + hs] },
    }),
  );
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(file, Buffer.concat([len, header, Buffer.alloc(4 + text)]));
  truncateSync(file, 8 + header.length + 4 + text + hs);
}

describe('huge requests: one line before any tensor of their size', () => {
  it('generate --model --seed: latents past rope_max_seq_len are the UsageError of the size flags (exit 2), not a RangeError', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.safetensors');
    const text = await inputsWith('wan_sampler_small', (m) => m.delete('latents')); // --seed makes the noise
    for (const guidance of ['1', '4']) {
      const r = await cli(['generate', '--model', join(FIXTURES, 'wan_sampler_small', 'model'), '--inputs', text, '--seed', '0', '--frames', '81', '--height', '4800', '--width', '8320', '--steps', '1', '--guidance', guidance, '--out', out], {}, 90_000);
      expect(r.code, r.stderr).toBe(2);
      expect(r.errLines).toEqual([ROPE_LINE.replace('InputError: ', 'UsageError: --height and --width: ')]);
    }
    expect(existsSync(out)).toBe(false);
    expect(filesIn(dir)).toEqual([]);
  }, 180_000);

  for (const [what, shape, line] of [
    ['past the binding limit: the LimitError of the size check', [1, 4, 128, 1024, 1024], /^tessera: error: LimitError: this run \(latents \[1,4,128,1024,1024\], text \[1,6,24\], f32\) needs \d+\.\d\d GiB on the GPU \(weights [^)]+\); its largest tensor, .+, is \d+\.\d\d GiB, above the adapter's \w+ of [\d.]+ [MG]iB: /],
    ['past rope_max_seq_len: the InputError (class RopeLimitError)', [1, 4, 81, 4800, 8320], new RegExp(`^${ROPE_LINE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)],
    ['of the wrong rank and larger than a GPU buffer: a LimitError naming the tensor', [4, 1024, 1024, 1024], /^tessera: error: LimitError: \S+huge\.safetensors: tensor "hidden_states" \[4,1024,1024,1024\] is 16\.00 GiB as the model's f32, above the adapter's maxBufferSize of [\d.]+ [MG]iB: use a smaller resolution or fewer frames$/],
  ] as const) {
    it(`forward --inputs: hidden_states ${what}, from the header, before the data is read`, async () => {
      const dir = tempDir();
      const file = join(dir, 'huge.safetensors');
      sparseForwardInputs(file, [...shape]);
      const out = join(dir, 'out.safetensors');
      const bytes = bytesReadEnv(dir);
      const r = await cli(['forward', '--model', join(FIXTURES, 'wan_sampler_small', 'model'), '--inputs', file, '--out', out], bytes.env, 90_000);
      expect(r.code, r.stderr).toBe(1);
      expect(r.errLines).toEqual([expect.stringMatching(line)]);
      expect(r.stderr).not.toMatch(/RangeError/);
      // the hole was not read (reading 2 GiB of it took ~30 s before the same LimitError): the headers and config only
      expect(bytes.read()).toBeLessThan(1 << 20);
      expect(existsSync(out)).toBe(false);
    }, 120_000);
  }
});
