// loadPipeline's refusals as a fresh user met them (session 18): a misspelt option with its letters swapped
// (`vea`) gets "did you mean vae?" (an adjacent swap is one edit), and a file given as the pipeline folder says
// so and what loadPipeline expects, not `…/inputs.safetensors/model_index.json: … a folder on its path is a file`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { closestName } from '../../src/closest-name.js';
import { editDistance } from '../../src/edit-distance.js';
import { InputError } from '../../src/model/model.js';
import { loadPipeline, PipelineError } from '../../src/pipeline/pipeline.js';
import { ROOT } from '../helpers/golden.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-loadref-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const caught = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as Error);

describe('loadPipeline refusals (session 18)', () => {
  it('{ vea: false } is refused with "did you mean vae?", before anything is read', async () => {
    const e = await caught(loadPipeline(join(tmp, 'not-read'), { vea: false } as never));
    expect(e).toBeInstanceOf(InputError);
    expect(e!.message).toMatch(/^vea: not an option of loadPipeline; did you mean vae\? \(options: .*\bvae\b.*\)$/);
  });

  it('swapped neighbouring letters are one edit: the hint for dtpye, singal; still none for an unrelated name', () => {
    expect(editDistance('vea', 'vae')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('abc', 'ca')).toBe(3); // optimal string alignment: no edit of a swapped pair
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closestName('dtpye', ['dtype', 'device'])).toBe('dtype');
    expect(closestName('singal', ['signal', 'gpu'])).toBe('signal');
    expect(closestName('zzz', ['vae', 'gpu'])).toBeUndefined();
  });

  it('a file given as the pipeline folder: "is a file; loadPipeline expects a pipeline folder (with model_index.json)"', async () => {
    const file = join(tmp, 'inputs.safetensors');
    writeFileSync(file, 'x');
    const e = await caught(loadPipeline(file));
    expect(e).toBeInstanceOf(PipelineError);
    expect(e!.message).toBe(`${file}: is a file (ENOTDIR: it, or a folder on its path); loadPipeline expects a pipeline folder (with model_index.json)`);
    const index = await caught(loadPipeline(join(DIR, 'model_index.json')));
    expect(index!.message).toMatch(/model_index\.json: is a file \(ENOTDIR: .*loadPipeline expects a pipeline folder \(with model_index\.json\)$/);
    expect(index!.message).not.toMatch(/model_index\.json\/model_index\.json/);
  });
});
