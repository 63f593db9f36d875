// Turns the JSON lines that scripts/gpu-check.sh collected into one bench/RESULTS.md section.
// usage: node gpu-check-report.mjs OUT_DIR quick|full   (prints markdown on stdout)
// Plain Node, no dependencies: it runs with the carried node binary on the GPU machine.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, kind = 'full'] = process.argv.slice(2);
const read = (name) => {
  const p = join(dir, `${name}.json`);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch {
    return null;
  }
};
const text = (name) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : '');
const steps = Object.fromEntries(text('steps.txt').split('\n').filter(Boolean).map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)]));
const f = (v, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—');
const pct = (v) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—');
const out = [];
const info = read('info');
const smi = text('nvidia-smi.txt').trim();
const adapter = info?.adapter?.summary ?? '(tessera info failed)';
// Nominal FP32 peak (no tensor cores): H100/H200 SXM datasheet 67 TFLOP/s; else GPU_FP32_PEAK_TFLOPS.
const nominal = Number(process.env.GPU_FP32_PEAK_TFLOPS) || (/H200|H100/.test(smi) ? 67 : null);
const ceiling = read('ceiling');
out.push(`## GPU check (${kind}) — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${adapter}`);
out.push('');
out.push(`- GPU: ${smi || 'n/a'}; WebGPU adapter: ${adapter}${info ? `; features ${Object.entries(info.features).filter(([, on]) => on).map(([k]) => k).join(', ')}` : ''}.`);
out.push('- Command: `scripts/gpu-check.sh prepare` here, then on the GPU machine `scripts/gpu-check.sh run' + (kind === 'quick' ? ' --quick' : '') + '` (Node, Dawn and the esbuild bundle carried in .gpu-check/).');
out.push(`- Steps: ${Object.entries(steps).map(([k, v]) => `${k} ${v}`).join('; ')}.`);
if (ceiling) out.push(`- Device ceiling measured in this run (independent FMA kernel): f32 ${f(ceiling.fma_gflops, 1)} GFLOP/s${ceiling.fma_f16_gflops ? `, f16 ${f(ceiling.fma_f16_gflops, 1)}` : ''}; copy ${f(ceiling.copy_gbps)} GB/s${nominal ? `; nominal FP32 peak ${nominal} TFLOP/s (datasheet)` : ''}.`);
out.push('');
const gemmTable = (name, title) => {
  const g = read(name);
  if (!g?.results) return;
  out.push(`### ${title} — \`tessera bench gemm --m ${g.args.m} --k ${g.args.k} --n ${g.args.n} --variants all${g.dtype === 'f16' ? ' --dtype f16' : ''}\` (heuristic: ${g.heuristic})`);
  out.push('');
  const roof = g.fma_ceiling_gflops ?? ceiling?.fma_gflops ?? null;
  out.push(g.fma_ceiling_gflops ? `f32 FMA ceiling kernel timed in the same round-robin: ${f(roof)} GFLOP/s (median).` : `f32 FMA ceiling: ${roof ? `${f(roof)} GFLOP/s from the separate ceiling step` : 'not measured'}.`);
  out.push('');
  out.push('| strategy | kernel | median ms | GFLOP/s | % of the f32 FMA ceiling | % of nominal FP32 peak | check max err |');
  out.push('|---|---|---|---|---|---|---|');
  for (const r of g.results) {
    const share = roof ? r.gflops / roof : null;
    out.push(`| ${r.variant} | ${r.kernel} | ${f(r.median_ms, 3)} | ${f(r.gflops, 1)} | ${pct(share)} | ${nominal ? pct(r.gflops / 1000 / nominal) : '—'} | ${r.check.max_abs_err.toExponential(1)} |`);
  }
  for (const w of g.wrong ?? []) out.push(`| ${w.variant} | WRONG (not timed) | | | | | |`);
  out.push('');
};
gemmTable('gemm_variants', 'GEMM strategies, f32');
gemmTable('gemm_variants_f16', 'GEMM strategies, f16 storage');
const rows = [];
const suite = read('suite');
for (const r of suite?.results ?? []) rows.push([r.label, r.kernels.join(' + '), r.median_ms, r.gflops, r.ceiling_share]);
for (const n of ['attention_4k', 'attention_16k', 'attention_32k', 'block_4k']) {
  const r = read(n);
  if (r?.median_ms !== undefined) rows.push([r.label, r.kernels.join(' + '), r.median_ms, r.gflops, r.ceiling_share]);
  else if (steps[n]) rows.push([n, `no result (${steps[n]})`, NaN, NaN, null]);
}
if (rows.length) {
  out.push('### Kernels and blocks (`bench suite`, `bench attention`, `bench block`), each checked against the float64 reference first');
  out.push('');
  out.push('| workload | kernels | median ms | GFLOP/s | % ceiling |');
  out.push('|---|---|---|---|---|');
  for (const [l, k, ms, gf, sh] of rows) out.push(`| ${l} | ${k} | ${f(ms, 3)} | ${f(gf, 1)} | ${pct(sh)} |`);
  out.push('');
}
for (const n of ['wan_480p', 'wan_step']) {
  const m = read(n);
  if (!m) continue;
  out.push(n === 'wan_480p' ? '### Wan-1.3B step at 480p × 81 frames (latent 21×60×104, CFG batch 2) — `tessera bench model --preset wan-1.3b --dtype f16 --frames 21 --height 60 --width 104`' : `### Model step (smoke test) — ${m.label ?? 'wan-tiny'}`);
  out.push('');
  if (m.seconds_per_step !== undefined) out.push(`${f(m.seconds_per_step, 3)} s per step (${m.dispatches} dispatches), peak ${f(m.peak_bytes / 2 ** 30, 2)} GiB (weights ${f(m.weight_bytes / 2 ** 30, 2)} GiB), ${f(m.gflops, 1)} GFLOP/s; check: ${m.check?.method ?? ''}.`);
  else out.push(`No time: ${text(`${n}.out`).split('\n').filter(Boolean).pop() ?? steps[n] ?? 'no output'} (log: ${steps[n] ?? ''}).`);
  out.push('');
}
const tune = read('tune');
if (tune?.choices) {
  out.push(`### Tuned choices (\`tessera tune\`, ${f(tune.seconds, 1)} s)`);
  out.push('');
  out.push('| family | bucket | choice | median ms per candidate |');
  out.push('|---|---|---|---|');
  for (const c of tune.choices) out.push(`| ${c.family} | ${c.bucket} | ${c.choice} | ${Object.entries(c.ms).map(([k, v]) => `${k} ${f(v, 3)}`).join(', ')}${c.rejected ? `; rejected: ${c.rejected.join(', ')}` : ''} |`);
  out.push('');
}
const golden = text('golden.out').trim();
const goldenSkipped = text('golden-skipped.txt').trim();
if (goldenSkipped) {
  out.push(`### Golden cases — NOT RUN: ${goldenSkipped}`);
  out.push('');
} else if (golden) {
  out.push('### Golden cases (`check-cases.sh` through the bundle)');
  out.push('');
  out.push('```');
  out.push(golden);
  out.push('```');
  out.push('');
} else if (steps.golden) {
  out.push(`### Golden cases — no output (${steps.golden}; see log.txt)`);
  out.push('');
}
console.log(out.join('\n'));
