// Mutation tests (round 3) for pipelineVaeScale (src/pipeline/pipeline.ts): the VAE factors of a pipeline folder from
// model_index.json and vae/config.json. An AutoencoderKL pipeline (DiT, Latte) has spatial factor 2^(len(block_out_channels)
// − 1) and temporal 1 (read as a Wan VAE it got 8 and 4); an AutoencoderKLWan config without scale_factor_spatial /
// scale_factor_temporal has diffusers' defaults 8 and 4 (AutoencoderKLWan.__init__).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeFolder } from '../../src/io/node-source.js';
import { pipelineVaeScale } from '../../src/pipeline/pipeline.js';
import { FIXTURES, ROOT } from '../helpers/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-vae-scale-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('pipelineVaeScale', () => {
  it('DiTPipeline with AutoencoderKL of 2 blocks: spatial 2, temporal 1', async () => {
    expect(await pipelineVaeScale(nodeFolder(join(FIXTURES, 'dit_pipeline', 'pipeline')))).toEqual({ spatial: 2, temporal: 1 });
  });
  it("WanPipeline: the config's factors, and diffusers' 8 and 4 when it has none", async () => {
    const shapes = join(ROOT, 'models', 'tessera-shapes');
    expect(await pipelineVaeScale(nodeFolder(shapes))).toEqual({ spatial: 4, temporal: 4 });
    const dir = join(tmp, 'wan');
    mkdirSync(join(dir, 'vae'), { recursive: true });
    copyFileSync(join(shapes, 'model_index.json'), join(dir, 'model_index.json'));
    const vae = JSON.parse(readFileSync(join(shapes, 'vae', 'config.json'), 'utf8')) as Record<string, unknown>;
    delete vae['scale_factor_spatial'];
    delete vae['scale_factor_temporal'];
    writeFileSync(join(dir, 'vae', 'config.json'), JSON.stringify(vae));
    expect(await pipelineVaeScale(nodeFolder(dir))).toEqual({ spatial: 8, temporal: 4 });
  });
});
