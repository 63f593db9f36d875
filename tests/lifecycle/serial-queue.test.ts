// src/gpu/serial.ts: a queued call whose signal aborts rejects at once and leaves the queue (its
// function never runs, dispose() does not wait for it); whenIdle (resetPlans) runs at once on an idle
// object and after the running and queued calls on a busy one. No device.
import { describe, expect, it } from 'vitest';
import { DisposedError, Serial } from '../../src/gpu/serial.js';

/** A call held open until release(). */
function held() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return { gate, release };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('Serial.run with a signal', () => {
  it('aborted while queued: rejects at once with the caller\'s error, never runs, and the next call runs after the first', async () => {
    const s = new Serial('thing t');
    const first = held();
    const log: string[] = [];
    const a = s.run(async () => (log.push('a'), await first.gate, 'a'));
    const ctl = new AbortController();
    const b = s.run(async () => (log.push('b'), 'b'), {
      signal: ctl.signal,
      aborted: () => {
        throw new Error(`thing, before it started: aborted (${String(ctl.signal.reason)})`);
      },
    });
    const c = s.run(async () => (log.push('c'), 'c'));
    await tick();
    ctl.abort('cancel');
    // b settles while a still runs
    await expect(b).rejects.toThrow(/^thing, before it started: aborted \(cancel\)$/);
    expect(log).toEqual(['a']);
    first.release();
    expect(await a).toBe('a');
    expect(await c).toBe('c');
    expect(log).toEqual(['a', 'c']);
  });

  it('without a message of its own, rejects with the signal\'s reason; an already aborted signal rejects without running', async () => {
    const s = new Serial('thing t');
    const first = held();
    const a = s.run(() => first.gate);
    const ctl = new AbortController();
    const b = s.run(async () => 1, { signal: ctl.signal });
    const why = new Error('why');
    ctl.abort(why);
    await expect(b).rejects.toBe(why);
    let ran = false;
    const gone = AbortSignal.abort('early');
    await expect(s.run(async () => (ran = true), { signal: gone })).rejects.toBe('early');
    expect(ran).toBe(false);
    first.release();
    await a;
  });

  it('a call that started keeps running when its signal aborts (the call checks it itself)', async () => {
    const s = new Serial('thing t');
    const ctl = new AbortController();
    const go = held();
    const a = s.run(async () => (await go.gate, 'done'), {
      signal: ctl.signal,
      aborted: () => {
        throw new Error('aborted');
      },
    });
    await tick();
    ctl.abort();
    go.release();
    expect(await a).toBe('done');
  });

  it('dispose() frees once the running call settles, not waiting for a queued call that left', async () => {
    const s = new Serial('thing t');
    const first = held();
    const a = s.run(() => first.gate);
    const ctl = new AbortController();
    const b = s.run(async () => 1, { signal: ctl.signal }).catch(() => 'left');
    let freed = 0;
    s.dispose(() => freed++);
    ctl.abort();
    expect(await b).toBe('left');
    expect(freed).toBe(0);
    first.release();
    await a;
    await tick();
    expect(freed).toBe(1);
  });
});

describe('Serial.whenIdle', () => {
  it('runs at once on an idle object', async () => {
    const s = new Serial('thing t');
    let n = 0;
    const p = s.whenIdle(() => void n++);
    expect(n).toBe(1);
    await p;
  });

  it('on a busy object: after the running and queued calls, before the calls made after it', async () => {
    const s = new Serial('thing t');
    const first = held();
    const log: string[] = [];
    const a = s.run(async () => (await first.gate, log.push('a')));
    const b = s.run(async () => log.push('b'));
    const r = s.whenIdle(() => void log.push('reset'));
    const c = s.run(async () => log.push('c'));
    await tick();
    expect(log).toEqual([]);
    first.release();
    await Promise.all([a, b, r, c]);
    expect(log).toEqual(['a', 'b', 'reset', 'c']);
  });

  it('after dispose(): throws DisposedError at once', () => {
    const s = new Serial('thing t');
    s.dispose(() => {});
    expect(() => s.whenIdle(() => {})).toThrow(DisposedError);
    expect(() => s.whenIdle(() => {})).toThrow('thing t was disposed: load it again to use it');
  });
});
