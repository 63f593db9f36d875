// TuneOptions as the library takes them (src/gpu/tune.ts): `rounds` refused as the CLI's --rounds is
// (tuneRoundsProblem, one check for both) before anything is timed — NaN or Infinity reached
// studentTQuantile's RangeError and 1e9 timed for ever — and `onProgress` called under the callback contract
// (src/hook.ts): awaited, a throw or rejection failing the call naming onProgress, also from inside a
// bucket's timing (where other failures keep the heuristic with a warning).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Plan } from '../../src/gpu/plan.js';
import { Allocator } from '../../src/gpu/tensor.js';
import { setTuneMode, setTuneStore, tunePlan, tuneRequest, tuneRoundsProblem } from '../../src/gpu/tune.js';
import { InputError } from '../../src/model/input-error.js';
import { gemm } from '../../src/ops/gemm.js';

const [M, K, N] = [12, 36, 40];

describe('rounds', () => {
  it('tuneRoundsProblem: a whole number 1 … 50, else what it got', () => {
    for (const ok of [1, 3, 10, 50]) expect(tuneRoundsProblem(ok)).toBeNull();
    for (const bad of [0, -1, 51, 2.5, NaN, Infinity, 1e9, '3', null]) expect(tuneRoundsProblem(bad), String(bad)).toMatch(/^must be a whole number between 1 and 50, got /);
    expect(tuneRoundsProblem(NaN)).toContain('NaN');
  });

  it('tuneRequest refuses a bad rounds with an InputError naming it, before touching the request', async () => {
    for (const rounds of [NaN, Infinity, 0, 2.5, 1e9]) {
      const p = tuneRequest(undefined as never, undefined as never, { rounds });
      await expect(p, String(rounds)).rejects.toThrow(InputError);
      await expect(tuneRequest(undefined as never, undefined as never, { rounds })).rejects.toThrow(/^tuneRequest: rounds must be a whole number between 1 and 50, got /);
    }
  });
});

describe.skipIf(!hasGpu)('tunePlan options', () => {
  let alloc: Allocator;
  const gemmPlan = () => {
    alloc = new Allocator(gpu!);
    const plan = new Plan(gpu!, alloc);
    gemm(plan, { x: alloc.tensor([M, K], 'f32', 'x'), w: alloc.tensor([N, K], 'f32', 'w'), out: alloc.tensor([M, N], 'f32', 'y') });
    return plan;
  };
  beforeAll(() => {
    setTuneStore({ where: 'memory (test)', load: async () => ({}), save: async () => {} });
    setTuneMode(gpu!, 'auto');
  });
  afterEach(() => alloc?.destroyAll());
  afterAll(() => {
    setTuneStore(null);
    setTuneMode(gpu!, 'off');
  });

  it('refuses a bad rounds with an InputError naming it', async () => {
    for (const rounds of [NaN, Infinity, 0, 1e9]) {
      const plan = gemmPlan();
      await expect(tunePlan(plan, { rounds }), String(rounds)).rejects.toThrow(InputError);
      await expect(tunePlan(plan, { rounds })).rejects.toThrow(/^tunePlan: rounds must be a whole number between 1 and 50, got /);
      alloc.destroyAll();
    }
  });

  it('a rejecting async onProgress fails the call, naming onProgress', async () => {
    await expect(tunePlan(gemmPlan(), { force: true, save: false, onProgress: async () => Promise.reject(new Error('boom')) })).rejects.toThrow(/^tunePlan: onProgress failed: boom$/);
  });

  it('a rejection of the per-candidate progress, inside a bucket\'s timing, fails the call too (not kept as a tuning failure)', async () => {
    const onProgress = async (m: string) => {
      if (m.startsWith('  checking')) throw new Error('late boom');
    };
    await expect(tunePlan(gemmPlan(), { force: true, save: false, onProgress })).rejects.toThrow(/onProgress failed: late boom/);
  });

  it('an async onProgress is awaited before tuning goes on: each call ends before the next starts', async () => {
    const seen: string[] = [];
    const onProgress = async (m: string) => {
      const what = m.trim().split(' ')[0];
      seen.push(`start ${what}`);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(`end ${what}`);
    };
    await tunePlan(gemmPlan(), { force: true, save: false, rounds: 1, onProgress });
    // the bucket, then each candidate's check, each call finished before the next (not started together, nor left running)
    expect(seen.length).toBeGreaterThan(4);
    for (let i = 0; i < seen.length; i += 2) expect([seen[i]!.split(' ')[0], seen[i + 1]?.split(' ')[0]], String(i)).toEqual(['start', 'end']);
    expect(seen.slice(0, 2)).toEqual(['start tuning', 'end tuning']);
  });
});
