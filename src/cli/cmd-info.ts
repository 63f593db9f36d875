// `tessera info`: adapter, features, limits and which kernel variants apply.
import { acquireGpu, describeAdapter, OPTIONAL_FEATURES } from '../gpu/device.js';
import { kernelRegistry } from '../gpu/kernel.js';
import '../ops/all.js';
import type { Command } from './main.js';

export const infoCommand: Command = {
  spec: {
    name: 'info',
    summary: 'show the WebGPU adapter, its features and limits, and the kernel variants that apply',
    flags: { json: { type: 'bool', help: 'print one JSON object' } },
  },
  async run(p) {
    const gpu = await acquireGpu();
    try {
      const kernels = [...kernelRegistry.values()].map((k) => {
        const flags = Object.keys(k.flags).filter((f) => {
          const need = k.needs?.[f];
          return !need || (need === 'shader-f16' ? gpu.f16 : gpu.subgroups);
        });
        return { name: k.name, flags, overrides: k.overrides };
      });
      const info = {
        adapter: { ...gpu.adapterInfo, summary: describeAdapter(gpu) },
        runtime: gpu.runtime,
        features: Object.fromEntries(OPTIONAL_FEATURES.map((f) => [f, f === 'shader-f16' ? gpu.f16 : f === 'timestamp-query' ? gpu.timestamps : gpu.subgroups])),
        limits: gpu.limits,
        dtypes: gpu.f16 ? ['f32', 'f16'] : ['f32'],
        kernels,
      };
      if (p.json) {
        console.log(JSON.stringify(info));
        return 0;
      }
      console.log(`adapter   ${info.adapter.summary} (${info.runtime})`);
      console.log(`features  ${Object.entries(info.features).map(([f, on]) => `${f}:${on ? 'yes' : 'no'}`).join('  ')}`);
      console.log(`dtypes    ${info.dtypes.join(', ')}`);
      console.log('limits');
      for (const [k, v] of Object.entries(info.limits)) console.log(`  ${k.padEnd(36)} ${v}`);
      console.log('kernels (variant flags usable on this adapter; override knobs)');
      for (const k of kernels) {
        const ov = Object.entries(k.overrides).map(([n, vals]) => `${n}∈{${vals.join(',')}}`).join(' ');
        console.log(`  ${k.name.padEnd(14)} [${k.flags.join(',')}] ${ov}`);
      }
      return 0;
    } finally {
      gpu.destroy();
    }
  },
};
