// --shift on a pipeline whose scheduler takes its shift from its config (the embedded pipeline's UniPC): the refusal
// says the practical way first, --scheduler flow-match-euler --shift S, and that way runs (session 18's fresh user
// was told to edit flow_shift in the package's scheduler_config.json).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { embeddedPipelineDir } from '../../src/cli/embedded.js';
import { checkShiftApplies } from '../../src/cli/generate-pipeline.js';
import { tesseraCli } from '../helpers/cli.js';
import { thrown } from '../helpers/errors.js';
import { tempDir } from '../hardening/helpers.js';

const refusal = (f: () => unknown): string => thrown(f, UsageError).message;

describe('--shift with a multistep scheduler of a flow config', () => {
  it('the refusal starts with --scheduler flow-match-euler --shift S, then names the class and its flow_shift file', () => {
    const m = refusal(() => checkShiftApplies(embeddedPipelineDir(), true, 2.5));
    expect(m).toMatch(/^--shift applies to FlowMatchEulerDiscreteScheduler \(flow matching\): give --scheduler flow-match-euler --shift 2\.5 /);
    expect(m).toContain(`UniPCMultistepScheduler, takes its shift from flow_shift in ${join(embeddedPipelineDir(), 'scheduler', 'scheduler_config.json')}`);
  });

  it('CLI: generate --shift 3 is refused so; generate --scheduler flow-match-euler --shift 3 runs', async () => {
    const out = join(tempDir(), 'out.safetensors');
    const r = await tesseraCli(['generate', '--shift', '3', '--steps', '1', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^tessera: error: UsageError: --shift applies to FlowMatchEulerDiscreteScheduler \(flow matching\): give --scheduler flow-match-euler --shift 3 to sample/);
    const ok = await tesseraCli(['generate', '--scheduler', 'flow-match-euler', '--shift', '3', '--steps', '1', '--quiet', '--out', out], { timeoutMs: 240_000 });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('FlowMatchEulerDiscreteScheduler');
  }, 300_000);
});
