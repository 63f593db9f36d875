// Counting the file descriptors this process holds on a file (Linux: /proc/self/fd names the files a process
// holds), for the tests that a file is closed after a load, between encodes, after a refusal.
import { readdirSync, readlinkSync } from 'node:fs';

/** How many of this process's file descriptors are open on `file` (Linux; one closed while listed is not counted). */
export function openOn(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}
