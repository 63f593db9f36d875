// Prints one plain closing line, "N passed, N failed, N skipped", after vitest's own summary,
// so that tools reading test output for a runner-agnostic summary find one.
import type { Reporter } from 'vitest/reporters';

interface TaskLike {
  type: string;
  mode?: string;
  result?: { state?: string };
  tasks?: TaskLike[];
}

export default class SummaryReporter implements Reporter {
  onFinished(files: TaskLike[] = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const walk = (t: TaskLike) => {
      if (t.tasks) t.tasks.forEach(walk);
      if (t.type !== 'test') return;
      const s = t.result?.state;
      if (s === 'pass') passed++;
      else if (s === 'fail') failed++;
      else skipped++;
    };
    files.forEach(walk);
    // a file that failed to load has no tests but did fail
    for (const f of files) if (f.result?.state === 'fail' && !f.tasks?.length) failed++;
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
