// A damaged JSON file's excerpt in an error or warning shows control characters as escapes (io/json.ts
// notValidJson): scheduler_config.json, a .safetensors header and the tuning cache, as config.json does.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { schedulerFromConfig, SchedulerConfigError } from '../../src/sampler/config.js';
import { SafetensorsError } from '../../src/io/safetensors.js';
import { nodeTuneStore } from '../../src/gpu/tune-store-node.js';
import { loadTuneCache, setTuneStore } from '../../src/gpu/tune.js';
import { parse, rawFile } from '../io/helpers.js';

const RAW = /[\u0000-\u001f\u007f]/; // a raw control character

describe('JSON excerpts in errors show control characters escaped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-json-excerpts-'));
  afterAll(() => {
    setTuneStore(null);
    rmSync(dir, { recursive: true, force: true });
  });

  it('scheduler_config.json', () => {
    let e: unknown;
    try { schedulerFromConfig('\u001b[2J'); } catch (x) { e = x; }
    expect(e).toBeInstanceOf(SchedulerConfigError);
    const m = (e as Error).message;
    expect(m).toContain('not valid JSON (');
    expect(m).toContain('\\u001b');
    expect(m).not.toMatch(RAW);
  });

  it('a .safetensors header', async () => {
    const e = await parse('w.safetensors', rawFile('\u0000\u0001{}')).catch((x) => x);
    expect(e).toBeInstanceOf(SafetensorsError);
    expect(e.message).toContain('header is not valid JSON (');
    expect(e.message).toContain('\\u0000');
    expect(e.message).not.toMatch(RAW);
  });

  it('the tuning cache', async () => {
    const file = join(dir, 'tune.json');
    writeFileSync(file, '\u0007\u001b[31m');
    setTuneStore(nodeTuneStore(file));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(await loadTuneCache()).toEqual({});
      const line = warn.mock.calls.map((c) => String(c[0])).find((l) => l.includes('is unreadable'));
      expect(line).toBeDefined();
      expect(line).toContain('not valid JSON (');
      expect(line).toContain('\\u0007');
      expect(line).not.toMatch(RAW);
    } finally {
      warn.mockRestore();
    }
  });
});
