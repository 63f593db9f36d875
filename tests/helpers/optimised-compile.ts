// Imported FIRST (before anything that requests an adapter) by the integration files whose time is
// kernel run time rather than compile time: the judge bar (72 clips × 20 steps) and the
// 32,760-token attention. vitest.config.ts turns lavapipe's LLVM optimisation passes off for the
// test run (GALLIVM_PERF=nopt: compile time dominates everywhere else); this puts back what the
// user had, so these files run the optimised code users get. Mesa reads GALLIVM_PERF when the
// driver initialises (the first adapter request in this process), not at process start.
const own = process.env.TESSERA_USER_GALLIVM_PERF;
if (own) process.env.GALLIVM_PERF = own;
else delete process.env.GALLIVM_PERF;
