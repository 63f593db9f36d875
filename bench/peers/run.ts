// tessera vs onnxruntime-web (WebGPU EP) vs @tensorflow/tfjs-backend-webgpu, in one process on
// ONE GPUDevice: tessera's. ORT gets it through `ort.env.webgpu.device` (set before its first
// session), tfjs through `new WebGPUBackend(device)` registered as its 'webgpu' backend. With
// `--devices separate` each library opens its own device on the same adapter instead (the
// earlier set-up, kept for comparison).
//
//   npx tsx bench/peers/run.ts [--only gemm,layernorm,attention,block] [--peers onnxruntime-web,tfjs]
//                              [--repeats 5] [--warmup 1] [--json] [--full] [--tol-scale 100]
//                              [--devices shared|separate]
//
// Each library gets the same inputs (tessera's seeded workload data) and its output is checked
// against the same float64 reference rows before it is timed; a wrong or failing library gets
// no time. Timed: the library's natural "run and get the result" call, wall clock —
//   tessera: plan.run() + read the output;  ORT: session.run(CPU feeds) → CPU output;
//   tfjs: f(inputs already on the GPU) + await y.data().
// So every figure includes one download of the output (and ORT one upload of the activations).
// ONNX graphs are built in-process (bench/peers/onnx.ts); attention uses com.microsoft
// MultiHeadAttention; tfjs attention and LayerNorm are composed from core ops.
import { parseArgs } from 'node:util';
import { create, globals } from 'webgpu';
import { acquireGpu, describeAdapter, type Gpu } from '../../src/gpu/device.js';
import { setLlvmpipeThreads } from '../../src/gpu/node.js';
import { readTensor } from '../../src/gpu/tensor.js';
import { median } from '../../src/profile/profiler.js';
import { attentionWorkload, blockWorkload, gemmWorkload, layernormWorkload, type Check, type Workload } from '../../src/profile/workloads.js';
import { buildModel, f32raw, type Init, type Node } from './onnx.js';

// ---- one Dawn GPU object for everyone -------------------------------------------------------
Object.assign(globalThis, globals);
// ORT's wasm heap is a SharedArrayBuffer; Dawn's Node binding rejects views of shared memory in
// writeBuffer ("Invalid argument"), so copy such views first.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const queueProto = (globals as unknown as { GPUQueue: { prototype: { writeBuffer: (...a: any[]) => void } } }).GPUQueue.prototype;
const writeBuffer = queueProto.writeBuffer;
queueProto.writeBuffer = function (this: unknown, buf: unknown, off: number, data: ArrayBufferView & { BYTES_PER_ELEMENT?: number }, dOff = 0, size?: number) {
  if (data && data.buffer instanceof SharedArrayBuffer) {
    const u8 = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const el = data.BYTES_PER_ELEMENT ?? 1;
    const len = size === undefined ? u8.length - dOff * el : size * el;
    return writeBuffer.call(this, buf, off, u8.slice(dOff * el, dOff * el + len), 0, len);
  }
  return writeBuffer.call(this, buf, off, data, dOff, size);
};
// The device every library shares is the one tessera makes: the same Dawn flags and, on lavapipe,
// the same llvmpipe thread count (src/gpu/node.ts), set before Dawn starts Mesa.
setLlvmpipeThreads();
const dawn = create(['disable-dawn-features=timestamp_quantization']);
// Count devices as they are created, to show (not assume) that the libraries share one.
const adapterProto = (globals as unknown as { GPUAdapter: { prototype: { requestDevice: (...a: unknown[]) => Promise<unknown> } } }).GPUAdapter.prototype;
const requestDevice = adapterProto.requestDevice;
let devicesCreated = 0;
adapterProto.requestDevice = function (this: unknown, ...a: unknown[]) {
  devicesCreated++;
  return requestDevice.apply(this, a);
};
Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn }, configurable: true });

// ---- arguments --------------------------------------------------------------------------------
// Strict, as the CLI: an unknown flag, a bad value or an empty selection is one line naming the
// flag and what it accepts, exit 2 (a misspelled --repats silently timing 5 repeats is a wrong run).
const KINDS = ['gemm', 'layernorm', 'attention', 'block'] as const;
const PEER_NAMES = ['onnxruntime-web', 'tfjs'] as const;
const USAGE = 'usage: npm run bench:peers -- [--only gemm,layernorm,attention,block] [--peers onnxruntime-web,tfjs] [--repeats N] [--warmup N] [--json] [--full] [--tol-scale X] [--devices shared|separate]';
function usageExit(msg: string): never {
  console.error(`bench:peers: ${msg}`);
  process.exit(2);
}
function parseFlags() {
  let v: Record<string, string | boolean | undefined>;
  try {
    ({ values: v } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: {
        only: { type: 'string' },
        peers: { type: 'string' },
        repeats: { type: 'string' },
        warmup: { type: 'string' },
        'tol-scale': { type: 'string' },
        devices: { type: 'string' },
        json: { type: 'boolean' },
        full: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    // parseArgs' own message names the flag ("Unknown option '--repats'"); add the valid ones
    usageExit(`${(e as Error).message.split('\n')[0]!.replace(/\.$/, '')}; ${USAGE}`);
  }
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, def: number, min: number): number => {
    const s = v[name] as string | undefined;
    if (s === undefined) return def;
    if (!/^\d+$/.test(s) || Number(s) < min) usageExit(`--${name} must be an integer ≥ ${min}, got "${s}"`);
    return Number(s);
  };
  const list = <T extends string>(name: string, def: readonly T[], allowed: readonly T[]): Set<T> => {
    const s = v[name] as string | undefined;
    if (s === undefined) return new Set(def);
    const items = s.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = items.filter((x) => !(allowed as readonly string[]).includes(x));
    if (bad.length || !items.length) usageExit(`--${name} takes a comma-separated list of ${allowed.join(', ')}, got "${s}"`);
    return new Set(items as T[]);
  };
  const tol = v['tol-scale'] as string | undefined;
  const tolScale = tol === undefined ? 1 : Number(tol);
  if (tol !== undefined && (tol.trim() === '' || !Number.isFinite(tolScale) || tolScale < 1)) usageExit(`--tol-scale must be a number ≥ 1, got "${tol}"`);
  const devices = (v.devices as string | undefined) ?? 'shared';
  if (devices !== 'shared' && devices !== 'separate') usageExit(`--devices must be shared or separate, got "${devices}"`);
  return {
    repeats: int('repeats', 5, 1),
    warmup: int('warmup', 1, 0),
    tolScale,
    only: list('only', KINDS, KINDS),
    peers: list('peers', PEER_NAMES, PEER_NAMES),
    devices,
    json: !!v.json,
    full: !!v.full,
  };
}
const args = parseFlags();
const { repeats, warmup, tolScale, only, devices } = args;
const flag = (n: 'json' | 'full') => args[n];
const shared = devices === 'shared';

type Spec =
  | { kind: 'gemm'; m: number; k: number; n: number }
  | { kind: 'layernorm'; rows: number; cols: number }
  | { kind: 'attention'; heads: number; tokens: number; headDim: number }
  | { kind: 'block'; hidden: number; heads: number; tokens: number };

// The issue's workloads. Attention 16×4096×72 is 77 GFLOP: only with --full.
const ALL: Spec[] = [
  { kind: 'gemm', m: 1024, k: 384, n: 384 },
  { kind: 'gemm', m: 1024, k: 384, n: 1536 },
  { kind: 'gemm', m: 4096, k: 1152, n: 1152 },
  { kind: 'layernorm', rows: 4096, cols: 1152 },
  { kind: 'attention', heads: 6, tokens: 1024, headDim: 64 },
  ...(flag('full') ? [{ kind: 'attention' as const, heads: 16, tokens: 4096, headDim: 72 }] : [{ kind: 'attention' as const, heads: 16, tokens: 1024, headDim: 72 }]),
  { kind: 'block', hidden: 384, heads: 6, tokens: 1024 },
  { kind: 'block', hidden: 1152, heads: 16, tokens: 1024 },
];
const SPECS = ALL.filter((s) => only.has(s.kind));

function workload(gpu: Gpu, s: Spec): Workload {
  switch (s.kind) {
    case 'gemm':
      return gemmWorkload(gpu, { m: s.m, k: s.k, n: s.n, dtype: 'f32' });
    case 'layernorm':
      return layernormWorkload(gpu, { rows: s.rows, cols: s.cols, dtype: 'f32' });
    case 'attention':
      return attentionWorkload(gpu, { batch: 1, heads: s.heads, tokens: s.tokens, kvTokens: s.tokens, headDim: s.headDim, dtype: 'f32' });
    case 'block':
      return blockWorkload(gpu, { hidden: s.hidden, heads: s.heads, tokens: s.tokens, mlpRatio: 4, dtype: 'f32' });
  }
}

/** PyTorch-layout weight [N, K] → ONNX MatMul / tf.matMul layout [K, N]. */
function transpose(w: Float32Array, N: number, K: number): Float32Array {
  const t = new Float32Array(K * N);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) t[k * N + n] = w[n * K + k]!;
  return t;
}

// ---- a peer = setup(data) → run() returning the full output -----------------------------------
interface Peer {
  name: string;
  version: string;
  prepare(s: Spec, w: Workload): Promise<() => Promise<Float32Array>>;
  dispose?(): void;
}

function tesseraPeer(gpu: Gpu): Peer {
  return {
    name: 'tessera',
    version: 'this tree',
    async prepare(_s, w) {
      return async () => {
        await w.plan.run('peers');
        return readTensor(gpu, w.out);
      };
    },
  };
}

async function ortPeer(gpu: Gpu): Promise<Peer> {
  const ort = await import('onnxruntime-web/webgpu');
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  // ORT 1.30's WebGPU EP (the native EP built to wasm) takes a device per session in its EP
  // options; `env.webgpu.device` is only written back with the device it created itself.
  const ep = shared ? { name: 'webgpu', device: gpu.device } : 'webgpu';
  let session: { run(f: Record<string, unknown>): Promise<Record<string, { getData(): Promise<unknown> }>>; release(): Promise<void> } | null = null;
  return {
    name: 'onnxruntime-web',
    version: `${(ort.env.versions as { web?: string }).web ?? '?'} (webgpu EP)`,
    async prepare(s, w) {
      if (session) await session.release();
      const d = w.data;
      const nodes: Node[] = [];
      const inits: Init[] = [];
      const init = (name: string, a: Float32Array, dims: number[]) => inits.push({ name, dims, type: 1, raw: f32raw(a) });
      const feeds: Record<string, Float32Array> = {};
      const inputs: { name: string; dims: number[]; type: 1 }[] = [];
      const input = (name: string, a: Float32Array, dims: number[]) => ((feeds[name] = a), inputs.push({ name, dims, type: 1 }));
      let outDims: number[];
      const linear = (x: string, wname: string, b: string | null, N: number, K: number, y: string) => {
        init(wname, transpose(d[wname]!, N, K), [K, N]);
        if (b) {
          init(b, d[b]!, [N]);
          nodes.push({ op: 'MatMul', inputs: [x, wname], outputs: [`${y}_mm`] }, { op: 'Add', inputs: [`${y}_mm`, b], outputs: [y] });
        } else nodes.push({ op: 'MatMul', inputs: [x, wname], outputs: [y] });
      };
      switch (s.kind) {
        case 'gemm':
          input('x', d.x!, [s.m, s.k]);
          linear('x', 'w', null, s.n, s.k, 'y');
          outDims = [s.m, s.n];
          break;
        case 'layernorm':
          input('x', d.x!, [s.rows, s.cols]);
          init('weight', d.weight!, [s.cols]);
          init('bias', d.bias!, [s.cols]);
          nodes.push({ op: 'LayerNormalization', inputs: ['x', 'weight', 'bias'], outputs: ['y'], attrs: { axis: -1, epsilon: { float: 1e-6 } } });
          outDims = [s.rows, s.cols];
          break;
        case 'attention': {
          const W = s.heads * s.headDim;
          for (const n of ['q', 'k', 'v']) input(n, d[n]!, [1, s.tokens, W]);
          nodes.push({ op: 'MultiHeadAttention', domain: 'com.microsoft', inputs: ['q', 'k', 'v'], outputs: ['y'], attrs: { num_heads: s.heads } });
          outDims = [1, s.tokens, W];
          break;
        }
        case 'block': {
          const D = s.hidden;
          const F = 4 * D;
          const T = s.tokens;
          input('x', d.x!, [1, T, D]);
          const mod = d.mod!;
          const vec = (name: string, j: number, plusOne = false) => init(name, mod.slice(j * D, (j + 1) * D).map((v) => (plusOne ? 1 + v : v)), [D]);
          vec('shift_msa', 0), vec('scale_msa1', 1, true), vec('gate_msa', 2), vec('shift_mlp', 3), vec('scale_mlp1', 4, true), vec('gate_mlp', 5);
          init('ones', new Float32Array(D).fill(1), [D]);
          init('zeros', new Float32Array(D), [D]);
          const ln = (x: string, shift: string, scale: string, y: string) =>
            nodes.push(
              { op: 'LayerNormalization', inputs: [x, 'ones', 'zeros'], outputs: [`${y}_ln`], attrs: { axis: -1, epsilon: { float: 1e-6 } } },
              { op: 'Mul', inputs: [`${y}_ln`, scale], outputs: [`${y}_sc`] },
              { op: 'Add', inputs: [`${y}_sc`, shift], outputs: [y] },
            );
          ln('x', 'shift_msa', 'scale_msa1', 'n1');
          linear('n1', 'wq', 'bq', D, D, 'q');
          linear('n1', 'wk', 'bk', D, D, 'k');
          linear('n1', 'wv', 'bv', D, D, 'v');
          nodes.push({ op: 'MultiHeadAttention', domain: 'com.microsoft', inputs: ['q', 'k', 'v'], outputs: ['a'], attrs: { num_heads: s.heads } });
          linear('a', 'wo', 'bo', D, D, 'o');
          nodes.push({ op: 'Mul', inputs: ['o', 'gate_msa'], outputs: ['og'] }, { op: 'Add', inputs: ['x', 'og'], outputs: ['x1'] });
          ln('x1', 'shift_mlp', 'scale_mlp1', 'n3');
          init('w1', transpose(d.w1!, F, D), [D, F]);
          init('b1', d.b1!, [F]);
          nodes.push({ op: 'MatMul', inputs: ['n3', 'w1'], outputs: ['h_mm'] }, { op: 'FastGelu', domain: 'com.microsoft', inputs: ['h_mm', 'b1'], outputs: ['h'] });
          linear('h', 'w2', 'b2', D, F, 'y2');
          nodes.push({ op: 'Mul', inputs: ['y2', 'gate_mlp'], outputs: ['y2g'] }, { op: 'Add', inputs: ['x1', 'y2g'], outputs: ['y'] });
          outDims = [1, T, D];
          break;
        }
      }
      const model = buildModel({ nodes, inits, inputs, outputs: [{ name: 'y', dims: outDims, type: 1 }] });
      session = (await ort.InferenceSession.create(model, { executionProviders: [ep as never], graphOptimizationLevel: 'all' })) as unknown as typeof session;
      const tensors = Object.fromEntries(inputs.map((i) => [i.name, new ort.Tensor('float32', feeds[i.name]!, i.dims)]));
      return async () => {
        const r = await session!.run(tensors);
        return (await r.y!.getData()) as Float32Array;
      };
    },
    dispose() {
      void session?.release();
    },
  };
}

async function tfjsPeer(gpu: Gpu): Promise<Peer> {
  const tf = await import('@tensorflow/tfjs-core');
  const tfw = await import('@tensorflow/tfjs-backend-webgpu');
  if (shared) {
    // Replace the backend factory that requests a device of its own with one on tessera's device.
    tf.removeBackend('webgpu');
    const info = { vendor: gpu.adapterInfo.vendor, architecture: gpu.adapterInfo.architecture, device: gpu.adapterInfo.device, description: gpu.adapterInfo.description } as GPUAdapterInfo;
    tf.registerBackend('webgpu', () => new tfw.WebGPUBackend(gpu.device, info), 3);
  }
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: the webgpu backend did not initialise');
  await tf.ready();
  if (shared && (tf.backend() as unknown as { device: GPUDevice }).device !== gpu.device) throw new Error('tfjs did not take the shared device');
  let keep: { dispose(): void }[] = [];
  type T = ReturnType<typeof tf.tensor>;
  return {
    name: 'tfjs-backend-webgpu',
    version: tf.version_core,
    async prepare(s, w) {
      for (const t of keep) t.dispose();
      keep = [];
      const d = w.data;
      const up = (a: Float32Array, shape: number[]) => {
        const t = tf.tensor(a, shape);
        keep.push(t);
        return t;
      };
      const lnorm = (x: T, eps: number) => {
        const { mean, variance } = tf.moments(x, -1, true);
        return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
      };
      const attn = (q: T, k: T, v: T, H: number, Dh: number, L: number) => {
        const heads = (t: T) => tf.transpose(tf.reshape(t, [L, H, Dh]), [1, 0, 2]);
        const sc = tf.mul(tf.matMul(heads(q) as never, heads(k) as never, false, true), 1 / Math.sqrt(Dh));
        const o = tf.matMul(tf.softmax(sc) as never, heads(v) as never);
        return tf.reshape(tf.transpose(o, [1, 0, 2]), [L, H * Dh]);
      };
      let f: () => T;
      switch (s.kind) {
        case 'gemm': {
          const x = up(d.x!, [s.m, s.k]);
          const wt = up(transpose(d.w!, s.n, s.k), [s.k, s.n]);
          f = () => tf.matMul(x as never, wt as never);
          break;
        }
        case 'layernorm': {
          const x = up(d.x!, [s.rows, s.cols]);
          const g = up(d.weight!, [s.cols]);
          const b = up(d.bias!, [s.cols]);
          f = () => tf.add(tf.mul(lnorm(x, 1e-6), g), b);
          break;
        }
        case 'attention': {
          const W = s.heads * s.headDim;
          const [q, k, v] = ['q', 'k', 'v'].map((n) => up(d[n]!, [s.tokens, W])) as [T, T, T];
          f = () => attn(q, k, v, s.heads, s.headDim, s.tokens);
          break;
        }
        case 'block': {
          const D = s.hidden;
          const F = 4 * D;
          const T = s.tokens;
          const x = up(d.x!, [T, D]);
          const m = (j: number, plusOne = false) => up(d.mod!.slice(j * D, (j + 1) * D).map((v) => (plusOne ? 1 + v : v)), [D]);
          const [shM, scM, gM, shF, scF, gF] = [m(0), m(1, true), m(2), m(3), m(4, true), m(5)];
          const lin = (wn: string, bn: string, N: number, K: number) => ({ w: up(transpose(d[wn]!, N, K), [K, N]), b: up(d[bn]!, [N]) });
          const [lq, lk, lv, lo] = [lin('wq', 'bq', D, D), lin('wk', 'bk', D, D), lin('wv', 'bv', D, D), lin('wo', 'bo', D, D)];
          const [l1, l2] = [lin('w1', 'b1', F, D), lin('w2', 'b2', D, F)];
          const ap = (t: T, l: { w: T; b: T }) => tf.add(tf.matMul(t as never, l.w as never), l.b);
          const c = Math.sqrt(2 / Math.PI);
          const gelu = (y: T) => tf.mul(tf.mul(y, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(y, tf.mul(tf.pow(y, 3), 0.044715)), c))));
          f = () => {
            const n1 = tf.add(tf.mul(lnorm(x, 1e-6), scM), shM);
            const a = attn(ap(n1, lq), ap(n1, lk), ap(n1, lv), s.heads, D / s.heads, T);
            const x1 = tf.add(x, tf.mul(ap(a as T, lo), gM));
            const n3 = tf.add(tf.mul(lnorm(x1, 1e-6), scF), shF);
            return tf.add(x1, tf.mul(ap(gelu(ap(n3, l1)), l2), gF));
          };
          break;
        }
      }
      return async () => {
        const y = tf.tidy(f);
        const out = (await y.data()) as Float32Array;
        y.dispose();
        return out;
      };
    },
    dispose() {
      for (const t of keep) t.dispose();
    },
  };
}

// ---- run ----------------------------------------------------------------------------------------
interface Cell {
  median_ms: number | null;
  /** Passed only with the --tol-scale band. */
  loose?: boolean;
  min_ms?: number;
  error?: string;
  check?: Pick<Check, 'rows' | 'maxAbsErr'>;
}

const label = (s: Spec) =>
  s.kind === 'gemm' ? `GEMM ${s.m}×${s.k}×${s.n}` : s.kind === 'layernorm' ? `LayerNorm [${s.rows},${s.cols}]` : s.kind === 'attention' ? `attention ${s.heads}×${s.tokens}×${s.headDim}` : `DiT block D=${s.hidden} H=${s.heads} T=${s.tokens}`;

async function main() {
  const gpu = await acquireGpu({ gpu: dawn });
  const peers: Peer[] = [tesseraPeer(gpu)];
  const want = args.peers;
  for (const make of [...(want.has('onnxruntime-web') ? [ortPeer] : []), ...(want.has('tfjs') ? [tfjsPeer] : [])]) {
    try {
      peers.push(await make(gpu));
    } catch (e) {
      console.error(`peer ${make.name} unavailable: ${(e as Error).message}`);
    }
  }
  const log = (m: string) => (flag('json') ? console.error(m) : console.log(m));
  log(`adapter: ${describeAdapter(gpu)}; ${repeats} repeats after ${warmup} warm-up; f32; date ${new Date().toISOString()}`);
  log(shared ? 'devices: one GPUDevice (tessera\'s) shared by every library; each library timed in turn, never interleaved' : 'devices: each library on its own GPUDevice (same adapter)');
  log(`peers: ${peers.map((p) => `${p.name} ${p.version}`).join(', ')}`);
  const rows: { workload: string; cells: Record<string, Cell> }[] = [];
  for (const s of SPECS) {
    const w = workload(gpu, s);
    const cells: Record<string, Cell> = {};
    try {
      for (const p of peers) {
        try {
          const run = await p.prepare(s, w);
          const out = await run();
          let c = w.checkOutput(out);
          let loose = false;
          if (!c.ok && tolScale > 1 && p.name !== 'tessera') {
            c = w.checkOutput(out, { atol: c.tol.atol * tolScale, rtol: c.tol.rtol * tolScale });
            loose = c.ok;
          }
          if (!c.ok) throw new Error(`WRONG result: ${c.fails}/${c.elements} checked elements out of tolerance (atol ${c.tol.atol}, rtol ${c.tol.rtol}), max |err| ${c.maxAbsErr.toExponential(2)}; worst ${c.worst}`);
          for (let i = 0; i < warmup; i++) await run();
          const ts: number[] = [];
          for (let i = 0; i < repeats; i++) {
            const t0 = performance.now();
            await run();
            ts.push(performance.now() - t0);
          }
          cells[p.name] = { median_ms: median(ts), min_ms: Math.min(...ts), check: { rows: c.rows, maxAbsErr: c.maxAbsErr }, ...(loose ? { loose: true } : {}) };
        } catch (e) {
          cells[p.name] = { median_ms: null, error: ((e as Error).message ?? String(e)).split('\n')[0]!.slice(0, 200) };
        }
        const c = cells[p.name]!;
        log(`  ${label(s).padEnd(34)} ${p.name.padEnd(20)} ${c.median_ms === null ? `— (${c.error})` : `${c.median_ms.toFixed(1)} ms`}`);
      }
    } finally {
      w.destroy();
    }
    rows.push({ workload: label(s), cells });
  }
  for (const p of peers) p.dispose?.();
  log(`GPU devices created in this process: ${devicesCreated}${shared && devicesCreated !== 1 ? ' — NOT shared as intended' : ''}`);

  const names = peers.map((p) => p.name);
  const others = names.slice(1);
  const head = ['workload', ...names.map((n) => `${n} ms`), ...others.map((n) => `× vs ${n}`)];
  const table = rows.map((r) => {
    const t = r.cells.tessera?.median_ms ?? null;
    return [
      r.workload,
      ...names.map((n) => (r.cells[n]?.median_ms == null ? 'failed' : `${r.cells[n]!.median_ms!.toFixed(1)}${r.cells[n]!.loose ? '*' : ''}`)),
      ...others.map((n) => (t && r.cells[n]?.median_ms ? `${(r.cells[n]!.median_ms! / t).toFixed(2)}×` : '—')),
    ];
  });
  if (flag('json')) {
    console.log(JSON.stringify({ adapter: describeAdapter(gpu), devices, devices_created: devicesCreated, date: new Date().toISOString(), repeats, warmup, peers: peers.map((p) => ({ name: p.name, version: p.version })), rows }));
  } else {
    console.log('');
    const wd = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
    for (const r of [head, wd.map((n) => '-'.repeat(n)), ...table]) console.log(r.map((x, i) => (i ? x.padStart(wd[i]!) : x.padEnd(wd[i]!))).join('  '));
    console.log('\n(× = peer median / tessera median: > 1 means tessera is faster)');
    if (rows.some((r) => Object.values(r.cells).some((c) => c.loose))) console.log(`(* passed only with tolerances × ${tolScale}: --tol-scale)`);
  }
  gpu.destroy();
}

await main();
process.exit(0);
