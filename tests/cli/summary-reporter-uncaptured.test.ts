// tests/helpers/summary-reporter.ts: a test that printed "[tessera] uncaptured WebGPU error" counts as a
// failure in the closing counts and the summary JSON (scripts/test.mjs fails the run on it), named by its
// path; other stderr lines do not count.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import SummaryReporter from '../helpers/summary-reporter.js';

const dir = mkdtempSync(join(tmpdir(), 'summary-reporter-'));
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

function files() {
  const ok = { id: 't1', type: 'test', name: 'binds within the limit', result: { state: 'pass', duration: 5 } };
  const bad = { id: 't2', type: 'test', name: 'wan-1.3b f32', result: { state: 'pass', duration: 7 } };
  const suite = { id: 's1', type: 'suite', name: 'the estimate', tasks: [ok, bad] };
  return [{ id: 'f1', type: 'suite', name: 'tests/hardening/x.test.ts', projectName: 'unit', result: { duration: 12 }, tasks: [suite] }];
}

function finish(logs: { content: string; taskId?: string }[]) {
  const summary = join(dir, `s${Math.random()}.json`);
  vi.stubEnv('TESSERA_TEST_SUMMARY', summary);
  let printed = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((printed += String(s)), true));
  const r = new SummaryReporter();
  for (const l of logs) r.onUserConsoleLog(l);
  r.onFinished(files());
  vi.restoreAllMocks();
  return { printed, counts: JSON.parse(readFileSync(summary, 'utf8')) };
}

it('a test that printed an uncaptured WebGPU error is a failure, named by its path', () => {
  const { printed, counts } = finish([
    { content: 'note: something else\n', taskId: 't1' },
    { content: '[tessera] uncaptured WebGPU error: Binding size (153354240) of [Buffer "shared.0"] is larger than …\n', taskId: 't2' },
    { content: '[tessera] uncaptured WebGPU error: again\n', taskId: 't2' },
  ]);
  expect(counts).toMatchObject({ passed: 1, failed: 1, skipped: 0 });
  expect(printed).toContain('unit: 1 passed, 1 failed, 0 skipped');
  const listed = printed.slice(printed.indexOf('uncaptured WebGPU errors (each counted as a failure'));
  expect(listed.split('\n').filter((l) => l.startsWith('  '))).toEqual(['  tests/hardening/x.test.ts > the estimate > wan-1.3b f32']);
});

it('one printed by a hook counts once for its file; one outside every file once for the run', () => {
  const { counts } = finish([
    { content: '[tessera] uncaptured WebGPU error: in beforeAll\n', taskId: 'f1' },
    { content: '[tessera] uncaptured WebGPU error: at exit\n' },
  ]);
  expect(counts).toMatchObject({ passed: 2, failed: 2, skipped: 0 });
});

it('other stderr lines leave the counts alone', () => {
  const { printed, counts } = finish([{ content: '[tessera] note: WebGPU error scope caught …\n', taskId: 't1' }]);
  expect(counts).toMatchObject({ passed: 2, failed: 0, skipped: 0 });
  expect(printed).not.toContain('uncaptured WebGPU errors');
});

it.sequential('cleans up', () => rmSync(dir, { recursive: true, force: true }));
