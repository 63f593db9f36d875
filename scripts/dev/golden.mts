import { runCase } from '../../tests/helpers/golden.js';
for (const n of process.argv.slice(2)) { try { const r = await runCase(n); console.log(n, r.rel, r.maxAbs); } catch (e) { console.log(n, 'ERR', (e as Error).message.slice(0, 600)); } }
