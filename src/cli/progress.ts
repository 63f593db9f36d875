// A one-line progress bar on a terminal; silent when stderr is not a TTY (logs, CI, pipes).
export function progressBar(label: string): { update(done: number, total: number): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  const start = Date.now();
  let drawn = false;
  return {
    update(done, total) {
      if (!tty) return;
      const w = 30;
      const fill = Math.round((done / total) * w);
      const secs = (Date.now() - start) / 1000;
      process.stderr.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${done}/${total}  ${secs.toFixed(1)} s`);
      drawn = true;
    },
    done() {
      if (tty && drawn) process.stderr.write('\n');
    },
  };
}
