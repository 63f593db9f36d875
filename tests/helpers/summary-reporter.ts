// Prints, after vitest's own summary, the ten slowest tests and the five slowest files (with
// their hooks: beforeAll compiles a file's kernel variants), then one plain closing line,
// "N passed, N failed, N skipped", so that tools reading test output for a runner-agnostic
// summary find one. With TESSERA_TEST_SUMMARY=<file> it also writes those counts and times as
// JSON there (scripts/test.mjs combines the unit and integration runs from them).
import { writeFileSync } from 'node:fs';
import type { Reporter } from 'vitest/reporters';

interface TaskLike {
  type: string;
  name: string;
  mode?: string;
  filepath?: string;
  suite?: TaskLike;
  result?: { state?: string; duration?: number };
  tasks?: TaskLike[];
}

/** Slowest tests listed after each run. */
const SLOWEST = 10;

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export default class SummaryReporter implements Reporter {
  onFinished(files: TaskLike[] = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const tests: { name: string; ms: number }[] = [];
    const walk = (t: TaskLike, path: string[]) => {
      const here = t.type === 'suite' && t.name ? [...path, t.name] : path;
      if (t.tasks) t.tasks.forEach((c) => walk(c, here));
      if (t.type !== 'test') return;
      const s = t.result?.state;
      if (s === 'pass') passed++;
      else if (s === 'fail') failed++;
      else skipped++;
      if (t.result?.duration !== undefined) tests.push({ name: [...path, t.name].join(' > '), ms: t.result.duration });
    };
    for (const f of files) walk(f, []);
    // a file or suite that failed with no failed test under it (it failed to load, or a
    // beforeAll/afterAll hook threw and its tests were skipped) counts as one failure
    const anyTestFailed = (t: TaskLike): boolean => (t.type === 'test' ? t.result?.state === 'fail' : !!t.tasks?.some(anyTestFailed));
    const failedSuites = (t: TaskLike): number =>
      t.type === 'test' ? 0 : t.result?.state === 'fail' && !anyTestFailed(t) ? 1 : (t.tasks ?? []).reduce((a, c) => a + failedSuites(c), 0);
    for (const f of files) failed += failedSuites(f);
    tests.sort((a, b) => b.ms - a.ms);
    const fileTimes = files.map((f) => ({ name: f.name, ms: f.result?.duration ?? 0 })).sort((a, b) => b.ms - a.ms);
    const out: string[] = [];
    if (tests.length) {
      out.push(`\nslowest tests:`, ...tests.slice(0, SLOWEST).map((t) => `  ${secs(t.ms).padStart(8)}  ${t.name}`));
      out.push(`slowest files (tests and hooks):`, ...fileTimes.slice(0, 5).map((t) => `  ${secs(t.ms).padStart(8)}  ${t.name}`));
    }
    process.stdout.write(`${out.join('\n')}\n\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    const file = process.env.TESSERA_TEST_SUMMARY;
    if (file) writeFileSync(file, JSON.stringify({ passed, failed, skipped, slowest: tests.slice(0, SLOWEST), files: fileTimes }));
  }
}
