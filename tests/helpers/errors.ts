// Runs `f`, which must throw an instance of `Kind`; returns the error for further assertions.
import { expect } from 'vitest';

export function thrown<E extends Error>(f: () => unknown, Kind: new (...a: never[]) => E): E {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(Kind);
    return e as E;
  }
  throw new Error(`expected a ${Kind.name}, nothing was thrown`);
}
