// The Node entry exports OutputError, which its writeMp4Ffmpeg throws when the encoded clip cannot
// be renamed over its name (here: a folder there), so a script can tell it from an EncoderError.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EncoderError, findFfmpeg, OutputError, writeMp4Ffmpeg } from '../../src/index.js';
import { OutputError as WriterOutputError } from '../../src/io/node-write.js';
import { hasFfmpeg } from '../helpers/media.js';

// CI installs ffmpeg (scripts/setup.sh) and fails without it; elsewhere a missing ffmpeg skips with a warning.
const runFfmpeg = hasFfmpeg || !!process.env['CI'];
if (!runFfmpeg) console.warn('\n*** tests/io/output-error-export.test.ts: no ffmpeg on the PATH, writeMp4Ffmpeg onto a folder SKIPPED (bash scripts/setup.sh installs it) ***\n');
const HINT = 'tessera writes each output as a file (to a temp beside it, renamed over it), not to a device or a stream: give a file path';
const dir = mkdtempSync(join(tmpdir(), 'tessera-output-error-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OutputError from the Node entry', () => {
  it('is the class the writer throws', () => {
    expect(OutputError).toBe(WriterOutputError);
  });

  it.skipIf(!runFfmpeg)('writeMp4Ffmpeg onto a folder rejects with an OutputError naming the file, and leaves no temp', async () => {
    const path = join(dir, 'clip.mp4');
    mkdirSync(path);
    const frames = [0, 1].map(() => new Uint8ClampedArray(8 * 8 * 4).fill(255));
    const e = await writeMp4Ffmpeg(findFfmpeg(), path, { width: 8, height: 8, frames }, { fps: 8 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OutputError);
    expect(e).not.toBeInstanceOf(EncoderError);
    expect((e as Error).message).toBe(`cannot write ${path}: it is a folder, not a regular file; ${HINT}`);
    expect(readdirSync(dir)).toEqual(['clip.mp4']);
  });
});
