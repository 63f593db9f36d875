// A/B of progress inside a denoising step (generate's onBlock: session 23) on the default demo's call: the embedded
// tessera-shapes pipeline, "a red circle moving right", 9 frames of 32×32, 20 steps, CFG 5 (EMBEDDED_DEFAULTS), to
// latents (the decode is not what changes). Three sides, interleaved round by round (order rotated every round), in
// one process after a warm-up call of each:
//   one       no onBlock: every step one submit (as before session 23)
//   default   onBlock with the default policy: step 1 by block, later steps only after a step of ≥ 1 s
//   blocks    onBlock with setBlockProgressMinMs(0): every step submitted one command buffer per block
// Prints each side's median and min wall ms per call and per step, CPU ms per call (process user + sys: llvmpipe's
// threads and the waiting main thread), and the paired medians of default/one and blocks/one.
//
//   npx tsx bench/block-progress-ab.ts [--rounds 10]
import { parseArgs } from 'node:util';
import '../src/node-env.js';
import { describeAdapter } from '../src/gpu/device.js';
import { EMBEDDED_DEFAULTS } from '../src/pipeline/embedded.js';
import { embeddedPipelinePath } from '../src/pipeline/embedded-node.js';
import { loadPipeline, type PipelineGenerateOptions } from '../src/pipeline/pipeline.js';
import { BLOCK_PROGRESS_MIN_MS, setBlockProgressMinMs } from '../src/sampler/generate.js';
import { median } from '../src/profile/profiler.js';

const { values: a } = parseArgs({ options: { rounds: { type: 'string', default: '10' } }, strict: true });
const rounds = Number(a.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`bench/block-progress-ab.ts: --rounds: a positive integer, got ${a.rounds}`);
  process.exit(2);
}

const pipe = await loadPipeline(embeddedPipelinePath());
const { prompt, height, width, num_frames, num_inference_steps, guidance_scale } = EMBEDDED_DEFAULTS;
const base: PipelineGenerateOptions = { prompt, height, width, num_frames, num_inference_steps, guidance_scale, seed: 0, output_type: 'latent' };
type Side = 'one' | 'default' | 'blocks';
const SIDES: Side[] = ['one', 'default', 'blocks'];
let reported = 0;
const once = async (side: Side) => {
  setBlockProgressMinMs(side === 'blocks' ? 0 : BLOCK_PROGRESS_MIN_MS);
  const o = side === 'one' ? base : { ...base, onBlock: () => void reported++ };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await pipe.generate(o);
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000, latents: r.latents.data };
};
// warm-up: the kernels tune and compile, the prompt's embeddings are cached; every side computes the same latents
const ref = (await once('one')).latents;
for (const s of SIDES) {
  const l = (await once(s)).latents;
  if (!l.every((v, i) => Object.is(v, ref[i]))) throw new Error(`side ${s}: latents differ from one submit a step`);
}
const wall: Record<Side, number[]> = { one: [], default: [], blocks: [] };
const cpu: Record<Side, number[]> = { one: [], default: [], blocks: [] };
for (let r = 0; r < rounds; r++) {
  const order = SIDES.map((_, k) => SIDES[(k + r) % SIDES.length]!);
  for (const s of order) {
    const x = await once(s);
    wall[s].push(x.ms);
    cpu[s].push(x.cpuMs);
  }
}
console.log(`device: ${describeAdapter(pipe.gpu)}; ${rounds} rounds; ${num_inference_steps} steps a call; onBlock calls in all: ${reported}`);
for (const s of SIDES) {
  console.log(`${s.padEnd(8)} wall median ${median(wall[s]).toFixed(1)} ms (min ${Math.min(...wall[s]).toFixed(1)}), ${(median(wall[s]) / num_inference_steps).toFixed(2)} ms/step; CPU median ${median(cpu[s]).toFixed(0)} ms a call`);
}
const paired = (s: Side) => median(wall[s].map((w, i) => w / wall.one[i]!));
console.log(`paired wall ratio (median of per-round ratios): default/one ${paired('default').toFixed(3)}, blocks/one ${paired('blocks').toFixed(3)}`);
pipe.dispose();
