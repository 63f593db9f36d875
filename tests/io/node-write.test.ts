// The output writer (src/io/node-write.ts): temp names that fit the file system, files of one run
// committed together (all or none), clean-up of temps and of the folders a run created, and the
// up-front proof that an output can be created (src/cli/outputs.ts).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { discardOutputs, makeOutputFolder, mkdirParents, OutputGroup, tempPath, writeFileAtomic, writeTemp } from '../../src/io/node-write.js';
import { cannotCreate } from '../../src/cli/outputs.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-node-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pid = process.pid;

describe('tempPath', () => {
  it('NAME.tmp-PID beside the file; a name too long for the suffix is cut and hashed to at most 255 bytes', () => {
    expect(tempPath(join(dir, 'o.safetensors'))).toBe(join(dir, `o.safetensors.tmp-${pid}`));
    const a = join(dir, 'd'.repeat(250));
    const b = join(dir, `${'d'.repeat(249)}e`);
    for (const p of [a, b]) {
      const t = basename(tempPath(p));
      expect(Buffer.byteLength(t)).toBeLessThanOrEqual(255);
      expect(t).toMatch(new RegExp(`^d+~[0-9a-f]{8}\\.tmp-${pid}$`));
    }
    expect(tempPath(a)).not.toBe(tempPath(b));
    // multi-byte characters are never split
    const t = basename(tempPath(join(dir, 'é'.repeat(127))));
    expect(Buffer.byteLength(t)).toBeLessThanOrEqual(255);
    expect(t).toMatch(/^é+~/);
  });

  it('writeFileAtomic writes a 250-character name (the temp fits) and leaves no temp', async () => {
    const p = join(dir, 'x'.repeat(250));
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(p)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('cannotCreate: the up-front proof', () => {
  it('null where the writer can write; the reason for /proc, a name over 255 bytes', () => {
    expect(cannotCreate(join(dir, 'ok.bin'))).toBeNull();
    expect(readdirSync(dir).filter((f) => f.startsWith('ok.bin'))).toEqual([]); // the probe is removed
    expect(cannotCreate('/proc/x.safetensors')).toBe('the folder does not take new files (ENOENT: e.g. /proc or /sys)');
    expect(cannotCreate(join(dir, `${'d'.repeat(250)}.safetensors`))).toBe('the file name is too long for the file system (262 bytes; at most 255)');
  });

  it('mkdirParents refuses a folder below /proc at once (Node\'s recursive mkdirSync loops forever there)', () => {
    expect(() => mkdirParents('/proc/tessera-x/y')).toThrow(/ENOENT/);
  });
});

describe('OutputGroup: the files of one run are renamed together, or none is left', () => {
  it('nothing appears until the last member is staged; then all at once', async () => {
    const d = join(dir, 'group-ok');
    mkdirSync(d);
    const g = new OutputGroup(['a', 'b']);
    const pa = g.stage('a', [{ tmp: writeTemp(join(d, 'a'), new Uint8Array([1])), path: join(d, 'a') }]);
    await new Promise((r) => setTimeout(r, 10));
    expect(readdirSync(d)).toEqual([`a.tmp-${pid}`]);
    const pb = g.stage('b', [{ tmp: writeTemp(join(d, 'b'), new Uint8Array([2])), path: join(d, 'b') }]);
    await Promise.all([pa, pb]);
    expect(readdirSync(d).sort()).toEqual(['a', 'b']);
  });

  it('a failed member: every staged temp removed, every stage() rejects, a file that was there stays', async () => {
    const d = join(dir, 'group-fail');
    mkdirSync(d);
    writeFileSync(join(d, 'a'), 'earlier run');
    const g = new OutputGroup(['a', 'b']);
    const pa = g.stage('a', [{ tmp: writeTemp(join(d, 'a'), new Uint8Array([1])), path: join(d, 'a') }]);
    const boom = new Error('encoder failed');
    g.fail(boom);
    await expect(pa).rejects.toBe(boom);
    // a member that finishes later is refused and its temp removed
    await expect(g.stage('b', [{ tmp: writeTemp(join(d, 'b'), new Uint8Array([2])), path: join(d, 'b') }])).rejects.toBe(boom);
    expect(readdirSync(d)).toEqual(['a']);
    expect(readFileSync(join(d, 'a'), 'utf8')).toBe('earlier run');
  });
});

describe('discardOutputs', () => {
  it('removes the tracked temps and the folders the run created while empty; never a folder that was there', async () => {
    const there = join(dir, 'there');
    mkdirSync(there);
    expect(makeOutputFolder(there)).toBe(false);
    expect(makeOutputFolder(join(dir, 'new', 'a', 'b'))).toBe(true);
    writeTemp(join(dir, 'new', 'a', 'b', 'clip.gif'), new Uint8Array([1]));
    writeTemp(join(there, 'o.safetensors'), new Uint8Array([1]));
    await discardOutputs();
    expect(existsSync(join(dir, 'new'))).toBe(false);
    expect(readdirSync(there)).toEqual([]);
    // a created folder that holds a file of someone else's stays
    makeOutputFolder(join(dir, 'kept', 'sub'));
    writeFileSync(join(dir, 'kept', 'sub', 'mine.txt'), 'x');
    await discardOutputs();
    expect(readdirSync(join(dir, 'kept', 'sub'))).toEqual(['mine.txt']);
  });
});
