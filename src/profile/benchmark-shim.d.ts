// The `benchmark` package (Benchmark.js 2.x) ships no types; this shim types what the
// wall-clock helper uses.
declare module 'benchmark' {
  interface Deferred {
    resolve(): void;
  }
  interface Stats {
    /** Seconds per run. */
    mean: number;
    deviation: number;
    /** Relative margin of error, percent. */
    rme: number;
    /** Seconds per run, one entry per sample. */
    sample: number[];
  }
  interface Options {
    defer?: boolean;
    async?: boolean;
    minSamples?: number;
    maxTime?: number;
    minTime?: number;
    initCount?: number;
    delay?: number;
    fn?: (deferred: Deferred) => void;
    onError?: (ev: { target: Benchmark }) => void;
    onComplete?: (ev: { target: Benchmark }) => void;
  }
  class Benchmark {
    constructor(name: string, options: Options);
    name: string;
    stats: Stats;
    count: number;
    cycles: number;
    hz: number;
    error?: unknown;
    aborted: boolean;
    run(options?: { async?: boolean }): Benchmark;
    on(type: string, listener: (ev: { target: Benchmark }) => void): Benchmark;
  }
  export default Benchmark;
}
