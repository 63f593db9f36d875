// The same model stored as F32, F16, BF16, single-file or sharded: the loader reads each by
// byte range and converts on upload, and the forward pass sees exactly the stored values.
//  - F16 / BF16 files give the same output as an F32 file holding the same (rounded) values,
//    computed in f32 (`dtype: 'f32'`): bit-identical, since the GPU sees identical weights.
//  - Sharded (index.json + 2 shards) gives the bit-identical output of the single file.
//  - every checkpoint (F16 and BF16 too) defaults to f32 storage, as diffusers without torch_dtype.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import '../../src/node-env.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { openModelFolder } from '../../src/io/model-folder.js';
import { readInputs } from '../../src/io/inputs.js';
import { writeSafetensors, type WriteTensor } from '../../src/io/safetensors.js';
import { loadModel, type ForwardInputs } from '../../src/model/model.js';
import { roundF16, bf16BitsToF32 } from '../../src/gpu/half.js';
import { f32ToBf16Bits } from '../../src/io/safetensors.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-wfmt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const CASE = join(FIXTURES, 'wan_small');

async function original(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const f = await openModelFolder(nodeFolder(join(CASE, 'model')));
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, info] of f.tensors) out.set(k, { shape: info.shape, data: await f.readF32(k) });
  await f.close();
  return out;
}

/** Writes a model folder; `shards` > 1 splits the tensors with an index.json as diffusers does. */
function writeFolder(name: string, tensors: WriteTensor[], shards = 1): string {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(CASE, 'model', 'config.json'), join(dir, 'config.json'));
  if (shards === 1) {
    writeFileSync(join(dir, 'diffusion_pytorch_model.safetensors'), writeSafetensors(tensors));
    return dir;
  }
  const per = Math.ceil(tensors.length / shards);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const file = `diffusion_pytorch_model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = tensors.slice(s * per, (s + 1) * per);
    for (const t of part) weightMap[t.name] = file;
    writeFileSync(join(dir, file), writeSafetensors(part));
  }
  writeFileSync(join(dir, 'diffusion_pytorch_model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  return dir;
}

async function inputs(): Promise<ForwardInputs> {
  const i = await readInputs(join(CASE, 'inputs.safetensors'));
  return {
    hidden_states: { data: i.get('hidden_states')!.f32!, shape: i.get('hidden_states')!.shape },
    timestep: i.get('timestep')!.f32!,
    encoder_hidden_states: { data: i.get('encoder_hidden_states')!.f32!, shape: i.get('encoder_hidden_states')!.shape },
  };
}

async function forward(dir: string, dtype?: 'f32' | 'f16') {
  const m = await loadModel(dir, { gpu: gpu!, dtype });
  try {
    return { dtype: m.dtype, out: await m.forward(await inputs()) };
  } finally {
    m.destroy();
  }
}

const bf16 = (v: number) => bf16BitsToF32(f32ToBf16Bits(v));

describe.skipIf(!hasGpu)('weights stored as F32 / F16 / BF16, single file or sharded', () => {
  it('F16 and BF16 files load to exactly the values an F32 file of the rounded weights gives', async () => {
    const w = await original();
    const list = (dtype: 'F32' | 'F16' | 'BF16', round: (v: number) => number): WriteTensor[] =>
      [...w].map(([name, t]) => ({ name, dtype, shape: t.shape, data: t.data.map(round) }));
    const f16 = await forward(writeFolder('f16', list('F16', (v) => v)), 'f32');
    const f16ref = await forward(writeFolder('f16ref', list('F32', roundF16)), 'f32');
    expect(Array.from(f16.out.data)).toEqual(Array.from(f16ref.out.data));
    const b16 = await forward(writeFolder('bf16', list('BF16', (v) => v)));
    const b16ref = await forward(writeFolder('bf16ref', list('F32', bf16)), 'f32');
    expect(b16.dtype).toBe('f32'); // BF16 checkpoints default to f32 storage (f16 cannot hold their range)
    expect(Array.from(b16.out.data)).toEqual(Array.from(b16ref.out.data));
    // rounding the weights moves the output, but not far: the conversion is real, not a no-op
    const base = await forward(join(CASE, 'model'), 'f32');
    const diff = Math.max(...base.out.data.map((v, i) => Math.abs(v - b16.out.data[i]!)));
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(0.1);
  });

  it('F16 checkpoints default to f32 storage (diffusers without torch_dtype), the same numbers as their f32 widening', async () => {
    const w = await original();
    const dir = writeFolder('f16auto', [...w].map(([name, t]) => ({ name, dtype: 'F16', shape: t.shape, data: t.data })));
    const r = await forward(dir);
    expect(r.dtype).toBe('f32');
    const widened = await forward(writeFolder('f16auto-ref', [...w].map(([name, t]) => ({ name, dtype: 'F32', shape: t.shape, data: t.data.map(roundF16) }))), 'f32');
    expect(Array.from(r.out.data)).toEqual(Array.from(widened.out.data));
  });

  it('a sharded folder (index.json + 3 shards) gives the single file\'s output bit for bit', async () => {
    const w = await original();
    const tensors: WriteTensor[] = [...w].map(([name, t]) => ({ name, dtype: 'F32', shape: t.shape, data: t.data }));
    const one = await forward(writeFolder('single', tensors), 'f32');
    const three = await forward(writeFolder('sharded', tensors, 3), 'f32');
    expect(Array.from(three.out.data)).toEqual(Array.from(one.out.data));
  });
});
