// tessera decode with a file of generate's "video" alone: the message says decode needs latents and that video/images
// beside them are ignored; it listed "expected latents, video, images", as if video would do (user21 finding 19).
// Refused from the header, before any VAE is loaded (the folder has config.json only). No GPU needed.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { tesseraCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-decode-video-only-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('decode: a file with only "video" names latents as the one it needs', async () => {
  const vae = join(tmp, 'vae');
  mkdirSync(vae);
  copyFileSync(join(ROOT, 'models', 'tessera-shapes', 'vae', 'config.json'), join(vae, 'config.json'));
  const file = join(tmp, 'videoonly.safetensors');
  writeFileSync(file, writeSafetensors([{ name: 'video', dtype: 'F32', shape: [1, 1, 4, 4, 3], data: new Float32Array(48) }]));
  const r = await tesseraCli(['decode', '--vae', vae, '--inputs', file, '--out', join(tmp, 'out.safetensors')]);
  expect(r.stderr).toBe(`tessera: error: InputError: ${file}: missing tensor "latents": needs latents (video/images beside it are ignored)\n`);
  expect(r.code).toBe(1);
}, 60_000);
