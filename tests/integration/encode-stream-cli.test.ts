// A resident text encoder refused for its memory budget says how to let it stream in the caller's
// terms: the library names its `stream` option, `tessera encode` its --stream flag.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkUmt5Fits } from '../../src/text/memory.js';
import { parseUmt5Config } from '../../src/text/config.js';
import { hasGpu } from '../helpers/gpu.js';
import { cli, ROOT, tempDir } from '../hardening/helpers.js';

const SHAPES = join(ROOT, 'models', 'tessera-shapes');
const LIMITS = { maxStorageBufferBindingSize: 134217728, maxBufferSize: 4294967295 };

describe('a resident encoder above its budget', () => {
  it('the library names the stream option', () => {
    const c = parseUmt5Config(JSON.parse(readFileSync(join(SHAPES, 'text_encoder', 'config.json'), 'utf8')), 'config.json');
    expect(() => checkUmt5Fits(c, 1, 16, LIMITS, { maxMemory: 10 * 1024, stream: false })).toThrow(
      /; above the budget of 10\.0 KiB \(maxMemory\): let it stream \(stream: true, or stream unset: the default when the weights exceed the budget\), a shorter max_sequence_length or a larger maxMemory budget \(\d+ bytes or more\)$/,
    );
  });

  it.skipIf(!hasGpu)('tessera encode --stream off names --stream on|auto, exit 1, nothing written', async () => {
    const out = join(tempDir(), 'e.safetensors');
    const r = await cli(['encode', '--pipeline', SHAPES, '--prompt', 'a red circle', '--out', out, '--stream', 'off', '--max-memory', '10KiB']);
    expect(r.errLines, r.stderr).toHaveLength(1);
    expect(r.errLines[0]).toMatch(
      /^tessera: error: LimitError: the text encoder \(2 layers, d_model 64, resident\) encoding 1×16 tokens needs .*; above the budget of 10\.0 KiB \(--max-memory \/ TESSERA_MAX_GPU_MEMORY\): let it stream \(--stream on, or --stream auto: the default when the weights exceed the budget\), a shorter --max-sequence-length or give --max-memory \d+ or more$/,
    );
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });
});
