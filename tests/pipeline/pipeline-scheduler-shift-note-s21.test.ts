// loadPipeline's class-mismatch warning (scheduler_config.json's _class_name is not model_index.json's class) says a
// dropped flow_shift with an effect first, in the words of generate()'s own swap (018fe74): model_index.json's
// FlowMatchEulerDiscreteScheduler reads shift, so a config of another class with flow_shift 5 and no shift samples at
// shift 1. It listed flow_shift among the ignored keys with no note (user21 finding 9, the pipeline's line).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';
import { shiftNoteInFlagWords } from '../../src/sampler/config.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-pipeline-shift-note-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it.skipIf(!hasGpu)('a UniPC config with flow_shift 5 and no shift under model_index.json\'s flow-match Euler: the shift note first', async () => {
  const dir = join(tmp, 'p');
  cpSync(join(FIXTURES, 'wan_pipeline_embeds', 'pipeline'), dir, { recursive: true });
  const f = join(dir, 'scheduler', 'scheduler_config.json');
  const j = JSON.parse(readFileSync(f, 'utf8'));
  delete j.shift;
  writeFileSync(f, JSON.stringify({ ...j, _class_name: 'UniPCMultistepScheduler', solver_order: 3, flow_shift: 5 }));
  const lines: string[] = [];
  (await loadPipeline(dir, { gpu: gpu!, vae: false, onWarning: (l) => void lines.push(l) })).dispose();
  expect(lines).toEqual([
    `warning: ${f}: _class_name "UniPCMultistepScheduler" is not model_index.json's FlowMatchEulerDiscreteScheduler: using FlowMatchEulerDiscreteScheduler with the values it defines (as diffusers' from_pretrained does); flow_shift 5 is not used: FlowMatchEulerDiscreteScheduler reads shift, so a call without a shift samples at shift 1 (pass shift: 5 to keep it); the other solver_order is not a FlowMatchEulerDiscreteScheduler config key: ignored`,
  ]);
  // the CLI's onWarning (generate --pipeline, demo) shows the hint as the flag
  expect(shiftNoteInFlagWords(lines[0]!)).toContain('(give --shift 5 to keep it)');
}, 60_000);
