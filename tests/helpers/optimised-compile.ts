// Imported FIRST (before anything that requests an adapter) by the integration files whose time is
// kernel run time rather than compile time: the judge bar (72 clips × 20 steps), the 32,760-token
// attention, and the files that generate or decode whole clips in process or through the CLI
// (tessera-shapes, pipeline, umt5-pipeline, demo-cli, vae-decode-cli: each 5–13 s slower with
// GALLIVM_PERF=nopt in a cold `npm test`; a spawned CLI inherits this process's environment). vitest.config.ts turns lavapipe's LLVM optimisation passes off for the
// test run (GALLIVM_PERF=nopt: compile time dominates everywhere else); this puts back what the
// user had, so these files run the optimised code users get. Mesa reads GALLIVM_PERF when the
// driver initialises (the first adapter request in this process), not at process start.
const own = process.env.TESSERA_USER_GALLIVM_PERF;
if (own) process.env.GALLIVM_PERF = own;
else delete process.env.GALLIVM_PERF;
