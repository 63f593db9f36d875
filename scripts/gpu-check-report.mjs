// Turns the JSON lines that scripts/gpu-check.sh collected into one bench/RESULTS.md section.
// usage: node gpu-check-report.mjs DIR quick|full [--partial]   (prints markdown on stdout)
//        node gpu-check-report.mjs --adapter DIR   (one line: `gpu SUMMARY`, `cpu SUMMARY`, `none WHY`
//                                                  or, when info ran out of its time, `unknown WHY`;
//                                                  from DIR/info.json, steps.txt and log.txt)
// --partial: written after each step, while later steps may still run (or the run was killed):
// the heading says INCOMPLETE. Every step that gave no JSON gets a NOT MEASURED line with its exit
// status and its last output; every kernel the suite found wrong a WRONG row.
// Plain Node, no dependencies: it runs with the carried node binary on the GPU machine.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const adapterMode = args[0] === '--adapter';
const dir = adapterMode ? args[1] : args[0];
const kind = adapterMode ? 'full' : (args[1] ?? 'full');
const partial = !adapterMode && args.includes('--partial');
if (!dir || !['full', 'quick'].includes(kind)) {
  console.error('usage: node gpu-check-report.mjs DIR quick|full [--partial] | --adapter DIR');
  process.exit(2);
}
const read = (name) => {
  const p = join(dir, `${name}.json`);
  if (!existsSync(p)) return null;
  try {
    const v = JSON.parse(readFileSync(p, 'utf8'));
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
};
const text = (name) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : '');
const stepLines = text('steps.txt').split('\n').filter(Boolean);
const stopped = stepLines.find((l) => l.startsWith('STOPPED '));
// name → the rest of its line: `rc=N Ss[ (ran out of its L s)]` or `SKIPPED (why)`
const steps = Object.fromEntries(stepLines.filter((l) => !l.startsWith('STOPPED ')).map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)]));
// what a step wrote to stderr (log.txt holds `== NAME (…) [limit Ns]` then that step's lines)
const logBlocks = {};
{
  let cur = null;
  for (const l of text('log.txt').split('\n')) {
    const m = /^== (\S+) \(.*\) \[limit (\d+)s\]$/.exec(l);
    if (m) logBlocks[(cur = m[1])] = { limit: Number(m[2]), lines: [] };
    else if (cur && l.trim()) logBlocks[cur].lines.push(l.trim());
  }
}
const lastOutput = (name) => logBlocks[name]?.lines.at(-1) ?? text(`${name}.out`).split('\n').filter(Boolean).pop() ?? '';
const clip = (s, n = 200) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
// why a step gave no JSON, in one parenthesis-free phrase: `rc=124, ran out of its 55 s` …
function notMeasured(name) {
  const s = steps[name];
  if (s === undefined) return 'not run';
  if (s.startsWith('SKIPPED')) return `skipped: ${s.replace(/^SKIPPED \((.*)\)$/, '$1')}`;
  const rc = /rc=(\d+)/.exec(s)?.[1] ?? '?';
  const out = lastOutput(name);
  if (rc === '124' || rc === '137') return `rc=${rc}, ran out of its ${/ran out of its (\d+) s/.exec(s)?.[1] ?? logBlocks[name]?.limit ?? '?'} s${out ? `; last output: ${clip(out)}` : ''}`;
  if (rc === '0') return `rc=0 but its last line is not JSON${out ? `: ${clip(out)}` : ''}`;
  return `rc=${rc}${out ? `: ${clip(out)}` : ''}`;
}

const info = read('info');
const noPolicy = () => (info ? 'tessera info --json has no adapter_policy' : notMeasured('info').replace(/^rc=0 but its last line is not JSON/, 'tessera info gave no JSON'));
if (adapterMode) {
  // gpu-check.sh stops a full run on `cpu` or `none`; `unknown`: info ran out of its time (slow, not failed), the run goes on
  const p = info?.adapter_policy;
  const rc = /rc=(\d+)/.exec(steps.info ?? '')?.[1];
  if (!p) console.log(`${rc === '124' || rc === '137' ? 'unknown' : 'none'} ${noPolicy()}`);
  else console.log(`${p.cpu ? 'cpu' : 'gpu'} ${info.adapter?.summary ?? 'unnamed adapter'}`);
  process.exit(0);
}

const f = (v, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—');
const pct = (v) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—');
const bytes = (v) => (v >= 2 ** 30 && v % 2 ** 30 === 0 ? `${v / 2 ** 30} GiB` : v >= 2 ** 20 && v % 2 ** 20 === 0 ? `${v / 2 ** 20} MiB` : v >= 1024 && v % 1024 === 0 ? `${v / 1024} KiB` : String(v));
const out = [];
const smi = text('nvidia-smi.txt').trim();
const adapter = info?.adapter?.summary ?? '(tessera info failed)';
const policy = info?.adapter_policy;
const stamp = Object.fromEntries(text('stamp.txt').split('\n').filter(Boolean).map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)]));
// Nominal FP32 peak (no tensor cores): H100/H200 SXM datasheet 67 TFLOP/s; else GPU_FP32_PEAK_TFLOPS.
const nominal = Number(process.env.GPU_FP32_PEAK_TFLOPS) || (/H200|H100/.test(smi) ? 67 : null);
const ceiling = read('ceiling');
const when = text('started.txt').trim().replace('T', ' ').replace(/Z$/, '') || new Date().toISOString().slice(0, 16).replace('T', ' ');
const lastStep = stepLines.filter((l) => !l.startsWith('STOPPED ')).at(-1)?.split(' ')[0];
const label = [kind, policy?.cpu ? 'on a CPU adapter' : null, partial ? `INCOMPLETE, written after step ${lastStep ?? 'none'}` : null].filter(Boolean).join(', ');
out.push(`## GPU check (${label}) — ${when} UTC, ${adapter}`);
out.push('');
if (partial) out.push('- **INCOMPLETE**: written after each step while the run goes on; the steps after the last one below had not finished (the run was cut off, or the final report did not come back). log.txt names the step that was running.');
if (stopped) out.push(`- **${stopped}**`);
if (policy?.cpu) out.push('- **WARNING: the WebGPU adapter is a CPU** (adapter_policy.cpu): these are not GPU figures.');
out.push(`- GPU: ${smi || 'n/a'}; WebGPU adapter: ${adapter}${info?.features ? `; features ${Object.entries(info.features).filter(([, on]) => on).map(([k]) => k).join(', ')}` : ''}.`);
if (policy) {
  const lim = Object.entries(info.limits ?? {}).map(([k, v]) => `${k} ${/Size$/.test(k) && typeof v === 'number' ? bytes(v) : v}`).join(', ');
  out.push(`- Adapter policy: ${policy.cpu ? 'CPU adapter (cpu: true; the variants measured on lavapipe apply)' : 'GPU adapter (cpu: false; no CPU-tuned variant by heuristic)'}; subgroup sizes ${policy.subgroup_min_size}..${policy.subgroup_max_size}; limits: ${lim || 'n/a'}.`);
} else out.push(`- Adapter policy: unknown (${noPolicy()}).`);
const code = stamp.commit
  ? `commit ${stamp.commit.slice(0, 12)} (src/ and kernels/ ${stamp.dirty === 'yes' ? 'with uncommitted changes' : 'as committed'}, sha256 ${(stamp.source ?? '?').slice(0, 16)}; prepared ${stamp.prepared ?? '?'})`
  : 'an unstamped .gpu-check (commit unknown)';
out.push('- Command: `scripts/gpu-check.sh prepare` here at ' + code + ', then on the GPU machine `scripts/gpu-check.sh run' + (kind === 'quick' ? ' --quick' : '') + '` (Node, Dawn and the esbuild bundle carried in .gpu-check/).');
out.push(`- Steps: ${Object.entries(steps).map(([k, v]) => `${k} ${v}`).join('; ') || 'none'}.`);
// each roof is its best repeat; `spread` (bench ceiling since session 22) has min / median / max, `busy` a wide one
const sp = ceiling?.spread?.fma;
const spreadWords = sp ? `; each the best of its repeats (f32 over ${sp.repeats}: min ${f(sp.min, 1)}, median ${f(sp.median, 1)})${ceiling.busy ? '; **the repeats spread wide: the device was busy, the shares are unreliable**' : ''}` : '';
if (ceiling) out.push(`- Device ceiling measured in this run (independent FMA kernel): f32 ${f(ceiling.fma_gflops, 1)} GFLOP/s${ceiling.fma_f16_gflops ? `, f16 ${f(ceiling.fma_f16_gflops, 1)}` : ''}; copy ${f(ceiling.copy_gbps)} GB/s${spreadWords}${nominal ? `; nominal FP32 peak ${nominal} TFLOP/s (datasheet)` : ''}.`);
out.push('');
const gemmTable = (name, title) => {
  const g = read(name);
  if (!g?.results) return;
  out.push(`### ${title} — \`tessera bench gemm --m ${g.args?.m} --k ${g.args?.k} --n ${g.args?.n} --variants all${g.dtype === 'f16' ? ' --dtype f16' : ''}\` (heuristic: ${g.heuristic})`);
  out.push('');
  const roof = g.fma_ceiling_gflops ?? ceiling?.fma_gflops ?? null;
  out.push(g.fma_ceiling_gflops ? `f32 FMA ceiling kernel timed in the same round-robin: ${f(roof)} GFLOP/s (median).` : `f32 FMA ceiling: ${roof ? `${f(roof)} GFLOP/s from the separate ceiling step` : 'not measured'}.`);
  out.push('');
  out.push('| strategy | kernel | median ms | GFLOP/s | % of the f32 FMA ceiling | % of nominal FP32 peak | check max err |');
  out.push('|---|---|---|---|---|---|---|');
  for (const r of g.results) {
    const share = roof ? r.gflops / roof : null;
    const err = r.check?.max_abs_err;
    out.push(`| ${r.variant} | ${r.kernel} | ${f(r.median_ms, 3)} | ${f(r.gflops, 1)} | ${pct(share)} | ${nominal ? pct(r.gflops / 1000 / nominal) : '—'} | ${typeof err === 'number' ? err.toExponential(1) : '—'} |`);
  }
  for (const w of g.wrong ?? []) out.push(`| ${w.variant} | WRONG (not timed) | | | | | |`);
  out.push('');
};
gemmTable('gemm_variants', 'GEMM strategies, f32');
gemmTable('gemm_variants_f16', 'GEMM strategies, f16 storage');
const rows = [];
const suite = read('suite');
for (const r of suite?.results ?? []) rows.push([r.label, (r.kernels ?? []).join(' + '), r.median_ms, r.gflops, r.ceiling_share]);
// a kernel that failed its float64 check is never timed: a row that says so, with the error
for (const w of suite?.failures ?? []) rows.push([w.label, `WRONG (not timed): ${clip(String(w.error ?? ''), 160)}`, NaN, NaN, null]);
if (steps.suite && !suite) rows.push(['bench suite', `NOT MEASURED (${notMeasured('suite')})`, NaN, NaN, null]);
for (const n of ['attention_4k', 'attention_16k', 'attention_32k', 'block_4k']) {
  const r = read(n);
  if (r?.median_ms !== undefined) rows.push([r.label, (r.kernels ?? []).join(' + '), r.median_ms, r.gflops, r.ceiling_share]);
  else if (steps[n]) rows.push([n, `${/WrongResultError/.test(lastOutput(n)) ? 'WRONG (not timed)' : 'NOT MEASURED'} (${notMeasured(n)})`, NaN, NaN, null]);
}
if (rows.length) {
  out.push('### Kernels and blocks (`bench suite`, `bench attention`, `bench block`), each checked against the float64 reference first');
  out.push('');
  out.push('| workload | kernels | median ms | GFLOP/s | % ceiling |');
  out.push('|---|---|---|---|---|');
  for (const [l, k, ms, gf, sh] of rows) out.push(`| ${l} | ${k.replace(/\|/g, '\\|')} | ${f(ms, 3)} | ${f(gf, 1)} | ${pct(sh)} |`);
  out.push('');
}
for (const n of ['wan_480p', 'wan_step']) {
  if (steps[n] === undefined) continue;
  const m = read(n);
  const title = n === 'wan_480p' ? 'Wan-1.3B step at 480p × 81 frames (latent 21×60×104, CFG batch 2) — `tessera bench model --preset wan-1.3b --dtype f16 --frames 21 --height 60 --width 104 --no-tune`' : `Model step (smoke test) — ${m?.label ?? 'wan-tiny'}`;
  if (!m) {
    out.push(`### ${title} — NOT MEASURED (${notMeasured(n)})`);
    out.push('');
    continue;
  }
  out.push(`### ${title}`);
  out.push('');
  if (m.seconds_per_step !== undefined) {
    out.push(`${f(m.seconds_per_step, 3)} s per step (${m.dispatches} dispatches), peak ${f(m.peak_bytes / 2 ** 30, 2)} GiB (weights ${f(m.weight_bytes / 2 ** 30, 2)} GiB), ${f(m.gflops, 1)} GFLOP/s; check: ${m.check?.method ?? ''}.`);
    // bench model checks a large latent at a small cap of it: which latent, and which timed kernels it did not run
    const ck = m.check ?? {};
    if (Array.isArray(ck.latent)) out.push(`Check at latent [${ck.latent.join(', ')}] (timed at [${(m.latent ?? []).join(', ')}]): ${ck.kernels_checked ?? '?'} of the timed step's ${ck.kernels_timed ?? '?'} kernel variants checked${ck.unchecked_kernels?.length ? `; not checked: ${ck.unchecked_kernels.join(', ')}` : ''}; the timed output finite.`);
    const ph = m.phases_s;
    if (ph) out.push(`Phases (s): weights ${f(ph.weights, 1)} (${ph.weights_made ?? '?'}), check ${f(ph.check, 1)}, record ${f(ph.record, 1)}, tune ${f(ph.tune, 1)}, compile ${f(ph.compile, 1)}, timed ${f(ph.timed, 1)}.`);
  }
  else out.push(`No time: ${text(`${n}.out`).split('\n').filter(Boolean).pop() ?? 'no output'} (log: ${steps[n]}).`);
  out.push('');
}
const tune = read('tune');
if (tune?.choices) {
  out.push(`### Tuned choices (\`tessera tune\`, ${f(tune.seconds, 1)} s)`);
  out.push('');
  out.push('| family | bucket | choice | median ms per candidate |');
  out.push('|---|---|---|---|');
  for (const c of tune.choices) out.push(`| ${c.family} | ${c.bucket} | ${c.choice} | ${Object.entries(c.ms ?? {}).map(([k, v]) => `${k} ${f(v, 3)}`).join(', ')}${c.rejected ? `; rejected: ${c.rejected.join(', ')}` : ''} |`);
  out.push('');
}
const golden = text('golden.out').trim();
const goldenSkipped = text('golden-skipped.txt').trim();
if (goldenSkipped) {
  out.push(`### Golden cases — NOT RUN: ${goldenSkipped}`);
  out.push('');
} else if (golden) {
  out.push(`### Golden cases (\`check-cases.sh\` through the bundle)${steps.golden && !/^rc=0 /.test(steps.golden) ? ` — ${steps.golden}` : ''}`);
  out.push('');
  out.push('```');
  out.push(golden);
  out.push('```');
  out.push('');
} else if (steps.golden) {
  out.push(`### Golden cases — no output (${steps.golden}; see log.txt)`);
  out.push('');
}
// every step whose figures are missing, in one place: its exit status and why
const jsonSteps = Object.keys(steps).filter((n) => n !== 'golden');
const missing = jsonSteps.filter((n) => !read(n));
if (missing.length) {
  out.push('### NOT MEASURED — steps that gave no JSON');
  out.push('');
  for (const n of missing) out.push(`- ${n} — NOT MEASURED (${notMeasured(n)})`);
  out.push('');
}
console.log(out.join('\n'));
