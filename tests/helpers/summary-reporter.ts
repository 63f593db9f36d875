// Prints, after vitest's own summary, one line per project (unit, integration: their counts and
// the summed seconds of their files), the ten slowest tests and the five slowest files of each
// project (with their hooks: beforeAll compiles a file's kernel variants), then one plain closing
// line, "N passed, N failed, N skipped", so that tools reading test output for a runner-agnostic
// summary find one (with TESSERA_TEST_NO_TOTAL set, scripts/test.mjs prints it, once for its two runs). With TESSERA_TEST_SUMMARY=<file> it also writes those counts as JSON there
// (scripts/test.mjs reads them to tell a run that ended before its reporters from one that ran).
// A test during which the engine printed "[tessera] uncaptured WebGPU error" (src/gpu/device.ts) fails
// the run here, though its assertions passed: such an error means Dawn dropped a bind group or a
// submit outside every error scope, so the GPU work it stood for never ran (session 24: planner-presets'
// wan-1.3b f32 case bound 146 MiB over a 128 MiB limit, and passed). A test that means to cause one
// captures console.error itself, so the line never reaches this reporter.
import { writeFileSync } from 'node:fs';
import type { Reporter } from 'vitest/reporters';

interface TaskLike {
  id?: string;
  type: string;
  name: string;
  mode?: string;
  filepath?: string;
  projectName?: string;
  suite?: TaskLike;
  result?: { state?: string; duration?: number };
  tasks?: TaskLike[];
}

/** Slowest tests listed after each run. */
const SLOWEST = 10;

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  /** Sum of the project's file durations (tests and hooks), ms: its share of the two workers' time. */
  fileMs: number;
}

const UNCAPTURED = '[tessera] uncaptured WebGPU error';

export default class SummaryReporter implements Reporter {
  /** Ids of the tests (or files, for a hook's output) that printed an uncaptured WebGPU error. */
  private uncaptured = new Set<string>();

  onUserConsoleLog(log: { content: string; taskId?: string }): void {
    if (log.content.includes(UNCAPTURED)) this.uncaptured.add(log.taskId ?? '(outside any test)');
  }

  onFinished(files: TaskLike[] = []): void {
    const projects = new Map<string, Counts>();
    const tests: { name: string; ms: number; project: string }[] = [];
    const names = new Map<string, string>();
    // a file or suite that failed with no failed test under it (it failed to load, or a
    // beforeAll/afterAll hook threw and its tests were skipped) counts as one failure
    const anyTestFailed = (t: TaskLike): boolean => (t.type === 'test' ? t.result?.state === 'fail' : !!t.tasks?.some(anyTestFailed));
    const failedSuites = (t: TaskLike): number =>
      t.type === 'test' ? 0 : t.result?.state === 'fail' && !anyTestFailed(t) ? 1 : (t.tasks ?? []).reduce((a, c) => a + failedSuites(c), 0);
    for (const f of files) {
      const project = f.projectName || 'default';
      const c = projects.get(project) ?? { passed: 0, failed: 0, skipped: 0, fileMs: 0 };
      projects.set(project, c);
      const walk = (t: TaskLike, path: string[]) => {
        const here = t.type === 'suite' && t.name ? [...path, t.name] : path;
        if (t.tasks) t.tasks.forEach((x) => walk(x, here));
        if (t.id) names.set(t.id, [...path, t.name].join(' > '));
        // a hook's output carries its suite's or file's id: one failure for it
        if (t.type !== 'test' && t.id && this.uncaptured.has(t.id)) c.failed++;
        if (t.type !== 'test') return;
        const s = t.result?.state;
        // (a test that printed an uncaptured WebGPU error fails whatever its state)
        if (s === 'fail' || (t.id && this.uncaptured.has(t.id))) c.failed++;
        else if (s === 'pass') c.passed++;
        else c.skipped++;
        if (t.result?.duration !== undefined) tests.push({ name: [...path, t.name].join(' > '), ms: t.result.duration, project });
      };
      walk(f, []);
      c.failed += failedSuites(f);
      c.fileMs += f.result?.duration ?? 0;
    }
    tests.sort((a, b) => b.ms - a.ms);
    const out: string[] = [''];
    for (const [name, c] of projects) out.push(`${name}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped (its files: ${secs(c.fileMs)} of worker time)`);
    if (tests.length) {
      out.push(`\nslowest tests:`, ...tests.slice(0, SLOWEST).map((t) => `  ${secs(t.ms).padStart(8)}  [${t.project}] ${t.name}`));
      for (const name of projects.keys()) {
        const fileTimes = files.filter((f) => (f.projectName || 'default') === name).map((f) => ({ name: f.name, ms: f.result?.duration ?? 0 })).sort((a, b) => b.ms - a.ms);
        out.push(`slowest ${name} files (tests and hooks):`, ...fileTimes.slice(0, 5).map((t) => `  ${secs(t.ms).padStart(8)}  ${t.name}`));
      }
    }
    const total = [...projects.values()].reduce((a, c) => ({ passed: a.passed + c.passed, failed: a.failed + c.failed, skipped: a.skipped + c.skipped }), { passed: 0, failed: 0, skipped: 0 });
    // (one printed outside every test and file is a failure of the run's)
    total.failed += [...this.uncaptured].filter((id) => !names.has(id)).length;
    if (this.uncaptured.size) {
      out.push(`\nuncaptured WebGPU errors (each counted as a failure: the GPU work behind it never ran):`, ...[...this.uncaptured].map((id) => `  ${names.get(id) ?? id}`));
    }
    // scripts/test.mjs runs vitest twice (TESSERA_TEST_NO_TOTAL=1) and prints the line once, for both runs
    const closing = process.env.TESSERA_TEST_NO_TOTAL ? '' : `\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`;
    process.stdout.write(`${out.join('\n')}\n${closing}`);
    const file = process.env.TESSERA_TEST_SUMMARY;
    if (file) writeFileSync(file, JSON.stringify({ ...total, projects: Object.fromEntries(projects) }));
  }
}
