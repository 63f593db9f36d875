// One VAE decode of a batch or a clip, for CPU-second A/B runs of the decoder's images per pass (session 21):
//
//   /work/tools/cpusec npx tsx bench/vae-batch.ts --vae sd --shape 4,4,8,8 [--dtype f32] [--runs 1] [--ab]
//
// --vae: 'sd' (stabilityai/sd-vae-ft-ema's architecture, as DiT and Latte use it, seeded random weights written
// once to a temporary folder) or a diffusers VAE folder. --shape: the latents, [B, C, H, W] images or
// [B, C, F, H, W] a clip (KL frame by frame, as LattePipeline.decode_latents). Prints the plan (bands, images per
// pass where the tree has them) and each decode's CPU seconds (process.cpuUsage: Dawn's and llvmpipe's threads
// run in this process), wall seconds and dispatches. --ab: each run twice in this process, one image per pass
// (maxBinding: one image's largest binding) and as planned, the order swapped every run. Without --ab it runs on
// any tree with loadVae (the images field is absent before session 21), so the same script times both sides.
import '../src/gpu/node.js'; // the Node WebGPU provider (Dawn)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nodeFolder } from '../src/io/node-source.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { randn } from '../src/random.js';
import { parseVaeConfig, vaeDecoderKeys } from '../src/vae/config.js';
import { loadVae } from '../src/vae/vae.js';
import type { DType } from '../src/gpu/tensor.js';

const { values: a } = parseArgs({ options: { vae: { type: 'string', default: 'sd' }, shape: { type: 'string', default: '4,4,8,8' }, dtype: { type: 'string', default: 'f32' }, runs: { type: 'string', default: '1' }, ab: { type: 'boolean', default: false } } });
const shape = a.shape!.split(',').map(Number);
const runs = Number(a.runs);

// stabilityai/sd-vae-ft-ema vae/config.json (architecture fields; src/cli/bench-vae.ts's 'sd' preset)
const SD = { _class_name: 'AutoencoderKL', block_out_channels: [128, 256, 512, 512], layers_per_block: 2, norm_num_groups: 32, latent_channels: 4, in_channels: 3, out_channels: 3, up_block_types: Array(4).fill('UpDecoderBlock2D'), scaling_factor: 0.18215 };

/** A VAE folder of seeded random decoder weights (std 1/√fan-in, norms near 1). */
function sdFolder(): string {
  const dir = join(tmpdir(), 'tessera-bench-vae-sd');
  if (existsSync(join(dir, 'config.json'))) return dir; // written by an earlier run (the same seeds)
  mkdirSync(dir, { recursive: true });
  const keys = [...vaeDecoderKeys(parseVaeConfig(SD))];
  const tensors = keys.map(([name, s], i) => {
    const n = s.reduce((x, y) => x * y, 1);
    const data = /(gamma|norm[^.]*\.weight)$/.test(name) ? randn(n, i, 0.1).map((v) => v + 1) : name.endsWith('.bias') ? randn(n, i, 0.05) : randn(n, i, 1 / Math.sqrt(n / s[0]!));
    return { name, dtype: 'F32' as const, shape: s, data };
  });
  writeFileSync(join(dir, 'diffusion_pytorch_model.safetensors'), writeSafetensors(tensors));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(SD)); // last: its presence marks a complete folder
  return dir;
}

const dir = a.vae === 'sd' ? sdFolder() : a.vae!;
const vae = await loadVae(nodeFolder(dir), { dtype: a.dtype as DType });
try {
  const p = vae.plan(shape) as ReturnType<typeof vae.plan> & { images?: number };
  console.log(`${a.vae} [${shape.join(',')}] ${a.dtype}: ${p.bands} band(s), ${p.images ?? 1} image(s) per pass, largest binding ${(p.largestBinding / 2 ** 20).toFixed(1)} MiB`);
  const latents = { data: randn(shape.reduce((x, y) => x * y, 1), 7), shape };
  // --ab: each run twice, one image per pass (maxBinding: one image's largest binding) and as planned, order swapped every run
  const one = { maxBinding: Math.ceil(p.largestBinding / (p.images ?? 1)) };
  for (let r = 0; r < runs; r++) {
    const sides = a.ab ? (r % 2 ? [{}, one] : [one, {}]) : [{}];
    for (const o of sides) {
      const t0 = performance.now();
      const c0 = process.cpuUsage(); // the process's threads: Dawn's and llvmpipe's run in it
      await vae.decode(latents, o);
      const c = process.cpuUsage(c0);
      const imgs = (vae.lastStats as { images?: number }).images ?? 1;
      console.log(`run ${r + 1}, ${imgs} image(s) per pass: ${((c.user + c.system) / 1e6).toFixed(2)} CPU s, ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${vae.lastStats!.dispatches} dispatches, peak ${(vae.lastStats!.peakBytes / 2 ** 20).toFixed(1)} MiB`);
    }
  }
} finally {
  vae.dispose();
}
