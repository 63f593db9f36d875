// Session 23: tessera generate --pipeline (and the embedded pipeline's generate) says on a CPU adapter, before the
// text encoder and the loop (generate --model: before the loop), what tessera demo says there when one denoising step would take over LONG_STEP_S even at
// a generous rate: cpuLoopNote's line, made by one function (src/cli/cpu-note.ts) for both commands. The CLI test runs
// a size that trips the threshold and stops the run once the line is out (the loop would take minutes). Nothing timed.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuLoopNote, CPU_GENEROUS_GFLOPS_PER_CORE, DEMO_SMALLER, LONG_STEP_S, sizeFlagsWords } from '../../src/cli/cpu-note.js';
import { stepWorkOf } from '../../src/cli/generate-pipeline.js';
import { cpuLoopNote as demoCpuLoopNote } from '../../src/cli/cmd-demo.js';
import type { StepWork } from '../../src/pipeline/step-work.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { gpu } from '../helpers/gpu.js';

const root = join(import.meta.dirname, '..', '..');
const work: StepWork = { stepFlops: 10.2e12, onceFlops: 1e9, steps: 2, loopFlops: 2 * 10.2e12 + 1e9, tokens: 49152, batch: 2, cfg: true, stepSeconds: 51, loopSeconds: 102 };

describe('cpuLoopNote: one function for demo and generate', () => {
  it('the demo imports the same function; the last words are the command\'s', () => {
    expect(demoCpuLoopNote).toBe(cpuLoopNote);
    expect(cpuLoopNote(work, 2)).toMatch(new RegExp(`: ${DEMO_SMALLER}$`));
    expect(cpuLoopNote(work, 2, '--steps makes the loop shorter')).toMatch(/at least 51 s a step, 1\.7 min for 2 steps, .*: --steps makes the loop shorter$/);
    expect(cpuLoopNote({ ...work, stepSeconds: LONG_STEP_S }, 2)).toBeUndefined();
  });

  it('sizeFlagsWords: the size flags of the family, --batch for more than one item', () => {
    expect(sizeFlagsWords('wan', 1)).toBe('--steps, --frames, --height and --width make it smaller');
    expect(sizeFlagsWords('dit', 2)).toBe('--steps, --height, --width and --batch make it smaller');
  });

  it('stepWorkOf: given latents count by the sizes they decode to and their batch; prompt_embeds by their length', () => {
    const scale = { spatial: 8, temporal: 4 };
    const lat = { data: new Float32Array(0), shape: [3, 16, 3, 4, 4] };
    expect(stepWorkOf({ latents: lat, num_inference_steps: 5, guidance_scale: 1 }, 'wan', scale)).toEqual({ height: 32, width: 32, num_frames: 9, num_inference_steps: 5, guidance_scale: 1, max_sequence_length: undefined, batch: 3 });
    const emb = { data: new Float32Array(0), shape: [2, 77, 64] };
    expect(stepWorkOf({ prompt_embeds: emb, seed: 1, height: 64, width: 48, num_frames: 5 }, 'wan', scale)).toMatchObject({ height: 64, width: 48, num_frames: 5, max_sequence_length: 77, batch: 2 });
    expect(stepWorkOf({ prompt: ['a', 'b', 'c'], max_sequence_length: 16, seed: 0, height: 32, width: 32, num_frames: 9 }, 'wan', scale)).toMatchObject({ max_sequence_length: 16, batch: 3 });
    expect(stepWorkOf({ class_labels: [1, 2], seed: 0 }, 'dit', scale)).toMatchObject({ batch: 2, height: undefined });
  });
});

/** Spawns `tessera ...args`; once stderr holds `until`, ends it with SIGTERM (the launcher relays it); its output so far. */
function runUntil(args: string[], until: RegExp, timeoutMs: number): Promise<{ stderr: string; matched: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'tessera.mjs'), ...args], { cwd: root, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
    let stderr = '';
    let matched = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.resume();
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!matched && until.test(stderr)) {
        matched = true;
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ stderr, matched });
    });
  });
}

describe.skipIf(!gpu?.isCpu)('CLI on a CPU adapter: generate at a size whose step is long', () => {
  it('prints the line before the text encoder, with generate\'s flags', async () => {
    // 1024² × 9 frames of the embedded pipeline: 10.2 TFLOP a CFG step, > LONG_STEP_S at 100 GFLOP/s × 2 cores; the step's
    // FLOPs grow about as (height × width)², so a host with more cores gets a larger size
    const cores = availableParallelism();
    const need = (LONG_STEP_S * CPU_GENEROUS_GFLOPS_PER_CORE * 1e9 * cores) / 10.2e12;
    const side = Math.max(1024, Math.ceil((1024 * Math.pow(need * 1.3, 0.25)) / 16) * 16);
    const out = join(mkdtempSync(join(tmpdir(), 'tessera-s23-note-')), 'o.safetensors');
    const r = await runUntil(['generate', '--pipeline', join(root, 'models', 'tessera-shapes'), '--prompt', 'a red circle moving right', '--seed', '0', '--frames', '9', '--height', String(side), '--width', String(side), '--steps', '2', '--out', out], /CPU adapter: .*\n/, 240_000);
    expect(r.matched, r.stderr).toBe(true);
    const line = /CPU adapter: .*/.exec(r.stderr)![0];
    expect(line).toMatch(new RegExp(`^CPU adapter: one denoising step is [\\d.]+ [TP]FLOP \\(the transformer over \\d+ tokens × CFG batch 2\\): at least .+ a step, .+ for 2 steps, a lower bound at a generous ${CPU_GENEROUS_GFLOPS_PER_CORE * cores} GFLOP/s \\(${CPU_GENEROUS_GFLOPS_PER_CORE} per CPU core × ${cores}; this adapter runs below it\\): --steps, --frames, --height and --width make it smaller$`));
    // said before the text encoder starts: the first thing the run says after loading
    const encoding = r.stderr.indexOf('encoding the prompt');
    if (encoding >= 0) expect(r.stderr.indexOf('CPU adapter:')).toBeLessThan(encoding);
  }, 300_000);

  it('generate --model (the embedded transformer folder, text from --inputs): the same line before the loop', async () => {
    // latent sizes here: 256² × 3 latent frames is the pipeline's 1024² × 9 frames (its VAE's factors 4 and 4)
    const cores = availableParallelism();
    const need = (LONG_STEP_S * CPU_GENEROUS_GFLOPS_PER_CORE * 1e9 * cores) / 10.1e12;
    const side = Math.max(256, Math.ceil((256 * Math.pow(need * 1.3, 0.25)) / 16) * 16);
    const dir = mkdtempSync(join(tmpdir(), 'tessera-s23-note-'));
    const text = (seed: number) => Float32Array.from({ length: 8 * 64 }, (_, i) => Math.sin(i * 0.3 + seed));
    writeFileSync(join(dir, 'text.safetensors'), writeSafetensors([{ name: 'encoder_hidden_states', dtype: 'F32', shape: [1, 8, 64], data: text(1) }, { name: 'negative_encoder_hidden_states', dtype: 'F32', shape: [1, 8, 64], data: text(2) }]));
    const r = await runUntil(['generate', '--model', join(root, 'models', 'tessera-shapes', 'transformer'), '--inputs', join(dir, 'text.safetensors'), '--seed', '0', '--frames', '3', '--height', String(side), '--width', String(side), '--guidance', '5', '--steps', '2', '--out', join(dir, 'o.safetensors')], /CPU adapter: .*\n/, 240_000);
    expect(r.matched, r.stderr).toBe(true);
    expect(/CPU adapter: .*/.exec(r.stderr)![0]).toMatch(new RegExp(`^CPU adapter: one denoising step is [\\d.]+ [TP]FLOP \\(the transformer over ${3 * (side / 2) ** 2} tokens × CFG batch 2\\): at least .+ a step, .+ for 2 steps, .*: --steps, --frames, --height and --width make it smaller$`));
    // before the loop: no step reported yet
    expect(r.stderr.slice(0, r.stderr.indexOf('CPU adapter:'))).not.toMatch(/denoising \d/);
  }, 300_000);
});
