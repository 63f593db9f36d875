import { readInputs } from '../../src/io/inputs.js';
const [a, b, key] = process.argv.slice(2);
const A = (await readInputs(a!)).get(key!)!; const E = (await readInputs(b!)).get(key!)!;
console.log('shape', A.shape, E.shape);
const s = E.shape; const C = s[1]!; const per = E.f32!.length / (s[0]! * C);
for (let bb = 0; bb < s[0]!; bb++) for (let c = 0; c < C; c++) { let m = 0, mx = 0; for (let i = 0; i < per; i++) { const j = (bb * C + c) * per + i; m = Math.max(m, Math.abs(A.f32![j]! - E.f32![j]!)); mx = Math.max(mx, Math.abs(E.f32![j]!)); } console.log(bb, c, m.toFixed(4), mx.toFixed(4)); }
console.log(Array.from(A.f32!.slice(0, 8)).map(v=>v.toFixed(4)).join(' ')); console.log(Array.from(E.f32!.slice(0, 8)).map(v=>v.toFixed(4)).join(' '));
