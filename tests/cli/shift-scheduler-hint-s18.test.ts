// --shift on a pipeline whose scheduler takes its shift from its config (the embedded pipeline's UniPC with flow
// sigmas): it sets that config's flow_shift, as diffusers' UniPCMultistepScheduler.from_config(config, flow_shift=S)
// (session 18's fresh user was told to edit flow_shift in the package's scheduler_config.json; session 25 made the
// flag do it). A UniPC config without flow sigmas has no flow shift: still refused, saying why.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { embeddedPipelineDir } from '../../src/cli/embedded.js';
import { checkShiftApplies } from '../../src/cli/generate-pipeline.js';
import { thrown } from '../helpers/errors.js';
import { tempDir } from '../hardening/helpers.js';

describe('--shift with a multistep scheduler of a pipeline', () => {
  it('the embedded UniPC (use_flow_sigmas true) takes it', () => {
    expect(() => checkShiftApplies(embeddedPipelineDir(), true)).not.toThrow();
  });

  it('a UniPC config without use_flow_sigmas is refused, naming the class, the file and why', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'scheduler'));
    const cfg = JSON.parse(readFileSync(join(embeddedPipelineDir(), 'scheduler', 'scheduler_config.json'), 'utf8'));
    const file = join(dir, 'scheduler', 'scheduler_config.json');
    writeFileSync(file, JSON.stringify({ ...cfg, use_flow_sigmas: false, prediction_type: 'epsilon' }));
    writeFileSync(join(dir, 'model_index.json'), readFileSync(join(embeddedPipelineDir(), 'model_index.json')));
    expect(thrown(() => checkShiftApplies(dir, false), UsageError).message).toBe(
      `--shift sets the shift of flow-matching schedules (FlowMatchEulerDiscreteScheduler's shift, UniPC / DPM-Solver's flow_shift with use_flow_sigmas), not UniPCMultistepScheduler (${dir}'s scheduler), whose flow_shift applies only with use_flow_sigmas true, and ${file} sets it false: its sigmas come from the beta schedule, which has no shift; leave out --shift, or give --scheduler flow-match-euler`,
    );
  });
});
