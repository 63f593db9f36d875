// A/B of the denoising loop on one device, same model, same schedule: (A) the GPU-resident loop
// (generate(): guidance + scheduler as lincomb dispatches, one 4-byte read per step) against
// (B) the host loop it replaced (forward read back every step, CFG + the step on the CPU, latents
// uploaded again). Both are checked against each other first. Prints median wall and process CPU
// seconds per step, round-robin over `rounds`. Usage:
//   XDG_RUNTIME_DIR=/tmp npx tsx scripts/sampler-loop-ab.ts [preset=wan-tiny] [steps=8] [rounds=3]
import '../src/gpu/node.js';
import { acquireGpu } from '../src/gpu/device.js';
import { getPreset, loadRandomModel } from '../src/model/presets.js';
import { generate } from '../src/sampler/generate.js';
import { schedulerFromConfig } from '../src/sampler/config.js';
import { runProgramCpu } from '../src/sampler/program.js';
import { randn } from '../src/random.js';

const preset = process.argv[2] ?? 'wan-tiny';
const steps = Number(process.argv[3] ?? 8);
const rounds = Number(process.argv[4] ?? 3);
const p = getPreset(preset);
const gpu = await acquireGpu();
const model = await loadRandomModel(p.config, { gpu, seed: 1 });
const c = model.config as { inChannels: number; textDim?: number; numClasses?: number };
const wan = model.family === 'wan';
const shape = wan ? [1, c.inChannels, p.latent.frames, p.latent.height, p.latent.width] : [1, c.inChannels, p.latent.height, p.latent.width];
const n = shape.reduce((a, b) => a * b, 1);
const L = p.textLen ?? 8;
const text = wan ? { data: randn(L * c.textDim!, 2), shape: [1, L, c.textDim!] } : undefined;
const neg = wan ? { data: randn(L * c.textDim!, 3), shape: [1, L, c.textDim!] } : undefined;
const labels = wan ? undefined : [1];
const g = 5;
const config = wan
  ? { _class_name: 'UniPCMultistepScheduler', prediction_type: 'flow_prediction', use_flow_sigmas: true, flow_shift: 3, solver_order: 2 }
  : { _class_name: 'DPMSolverMultistepScheduler', solver_order: 2 };
const spec = schedulerFromConfig(config);
const x0 = randn(n, 4);

async function resident(): Promise<Float32Array> {
  const r = await generate(model, { scheduler: spec, num_inference_steps: steps, guidance_scale: g, latents: { data: x0, shape }, encoder_hidden_states: text, negative_encoder_hidden_states: neg, class_labels: labels });
  return r.latents.data;
}

async function host(): Promise<Float32Array> {
  const prog = spec.setTimesteps(steps);
  const out = await runProgramCpu(prog, x0, async (i, x) => {
    const xf = Float32Array.from(x);
    const o = await model.forward({
      hidden_states: { data: Float32Array.from([...xf, ...xf]), shape: [2, ...shape.slice(1)] },
      timestep: [prog.timesteps[i]!, prog.timesteps[i]!],
      encoder_hidden_states: text && { data: Float32Array.from([...text.data, ...neg!.data]), shape: [2, L, c.textDim!] },
      class_labels: labels && [...labels, c.numClasses!],
    });
    const per = o.data.length / 2;
    return Float64Array.from({ length: n }, (_, j) => o.data[per + j]! + g * (o.data[j]! - o.data[per + j]!));
  });
  return Float32Array.from(out);
}

const a0 = await resident();
const b0 = await host();
let d = 0;
let m = 0;
b0.forEach((v, i) => ((d = Math.max(d, Math.abs(v - a0[i]!))), (m = Math.max(m, Math.abs(v)))));
if (!(d / m < 1e-4)) throw new Error(`the loops disagree: ${d / m}`);
const wall: Record<string, number[]> = { resident: [], host: [] };
const cpu: Record<string, number[]> = { resident: [], host: [] };
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of [['resident', resident], ['host', host]] as const) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    wall[name]!.push((performance.now() - t0) / 1000 / steps);
    const c1 = process.cpuUsage(c0);
    cpu[name]!.push((c1.user + c1.system) / 1e6 / steps);
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(`${preset} latents [${shape.join(',')}], CFG ${g}, ${spec.className} ${steps} steps, ${rounds} rounds; loops agree to ${(d / m).toExponential(1)}`);
for (const k of ['resident', 'host']) console.log(`${k.padEnd(8)} wall ${med(wall[k]!).toFixed(3)} s/step  CPU ${med(cpu[k]!).toFixed(3)} s/step`);
model.destroy();
gpu.destroy();
