// `generate --inputs FILE` sizes the run from the file's safetensors header: a header claiming huge latents
// is refused by the memory check (LimitError, one line, exit 1) before the tensor data is read. The file is
// sparse (2 GiB of latents that take no disk); the bytes the CLI read come from Linux's /proc/PID/io of the
// shell that ran it (a reaped child's reads are added to its parent's).
import { execFile } from 'node:child_process';
import { existsSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';
import { tempDir } from '../hardening/helpers.js';

const LATENTS = [1, 4, 128, 1024, 1024]; // F32: 2 GiB
const canCount = existsSync('/proc/self/io');

/** A safetensors file whose text tensors ([1, 6, textDim] F32) are real and whose latents are a hole. */
function hugeInputs(file: string, textDim: number): void {
  const text = 6 * textDim * 4;
  const latents = LATENTS.reduce((a, b) => a * b, 4);
  const header = Buffer.from(
    JSON.stringify({
      encoder_hidden_states: { dtype: 'F32', shape: [1, 6, textDim], data_offsets: [0, text] },
      negative_encoder_hidden_states: { dtype: 'F32', shape: [1, 6, textDim], data_offsets: [text, 2 * text] },
      latents: { dtype: 'F32', shape: LATENTS, data_offsets: [2 * text, 2 * text + latents] },
    }),
  );
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(file, Buffer.concat([len, header, Buffer.alloc(2 * text)]));
  truncateSync(file, 8 + header.length + 2 * text + latents);
}

/** The CLI run by a shell that then prints the bytes it and its children read (rchar). */
function cliCountingReads(args: string[]): Promise<{ code: number; stderr: string; rchar: number }> {
  const script = `"${process.execPath}" "${join(ROOT, 'bin', 'tessera.mjs')}" "$@"; code=$?; grep '^rchar:' /proc/$$/io 1>&2; exit $code`;
  return new Promise((resolve) => {
    execFile('sh', ['-c', script, 'sh', ...args], { cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' }, timeout: 120_000 }, (err, _out, stderr) => {
      const m = /^rchar: (\d+)$/m.exec(stderr);
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr: stderr.replace(/^rchar: \d+\n/m, ''), rchar: m ? Number(m[1]) : NaN });
    });
  });
}

describe.skipIf(!hasGpu)('generate --inputs: the memory check runs on the header', () => {
  for (const [mode, dir, textDim] of [
    ['--model', join(FIXTURES, 'wan_sampler_small', 'model'), 24],
    ['--pipeline', join(FIXTURES, 'wan_pipeline_embeds', 'pipeline'), 16],
  ] as const) {
    it(`${mode}: huge latents in the header are refused (LimitError) without reading them`, async () => {
      const tmp = tempDir();
      const file = join(tmp, 'huge.safetensors');
      hugeInputs(file, textDim);
      const out = join(tmp, 'out.safetensors');
      const r = await cliCountingReads(['generate', mode, dir, '--inputs', file, '--steps', '1', '--guidance', '4', '--out', out]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning: '))).toEqual([
        expect.stringMatching(new RegExp(`^tessera: error: LimitError: this run \\(latents \\[2,4,128,1024,1024\\], text \\[2,6,${textDim}\\], f32\\) needs \\d+\\.\\d\\d GiB on the GPU \\(weights [^)]+\\); its largest tensor, .+, is \\d+\\.\\d\\d GiB, above the adapter's \\w+ of [\\d.]+ [MG]iB: `)),
      ]);
      expect(existsSync(out)).toBe(false);
      // the header, the weights, node_modules and the shader cache: megabytes, not the file's 2 GiB
      if (canCount) expect(r.rchar).toBeLessThan(256 * 2 ** 20);
    });
  }
});
