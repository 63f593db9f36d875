// A minimal ONNX ModelProto writer (protobuf wire format by hand), enough to build the peer
// benchmark graphs in-process: nodes with int/float/string attributes, float/float16
// initializers, typed inputs and outputs. Field numbers from onnx/onnx.proto.
type Msg = number[];

function varint(out: Msg, v: number | bigint): void {
  let x = BigInt(v);
  if (x < 0n) x += 1n << 64n;
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
}
const key = (out: Msg, field: number, wire: number) => varint(out, (field << 3) | wire);
function bytesField(out: Msg, field: number, b: ArrayLike<number>): void {
  key(out, field, 2);
  varint(out, b.length);
  for (let i = 0; i < b.length; i++) out.push(b[i]!);
}
const str = (out: Msg, field: number, s: string) => bytesField(out, field, new TextEncoder().encode(s));
const int = (out: Msg, field: number, v: number) => (key(out, field, 0), varint(out, v));
function f32(out: Msg, field: number, v: number): void {
  key(out, field, 5);
  const b = new Uint8Array(new Float32Array([v]).buffer);
  out.push(...b);
}

export type Attr = number | string | number[] | { float: number };
export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  domain?: string;
  attrs?: Record<string, Attr>;
}
export interface Init {
  name: string;
  dims: number[];
  /** FLOAT=1, FLOAT16=10 */
  type: 1 | 10;
  raw: Uint8Array;
}
export interface IO {
  name: string;
  dims: number[];
  type: 1 | 10;
}

function attribute(name: string, v: Attr): Msg {
  const m: Msg = [];
  str(m, 1, name);
  if (typeof v === 'number') (int(m, 3, v), int(m, 20, 2));
  else if (typeof v === 'string') (bytesField(m, 4, new TextEncoder().encode(v)), int(m, 20, 3));
  else if (Array.isArray(v)) {
    for (const x of v) int(m, 8, x);
    int(m, 20, 7);
  } else (f32(m, 2, v.float), int(m, 20, 1));
  return m;
}

function valueInfo(io: IO): Msg {
  const shape: Msg = [];
  for (const d of io.dims) {
    const dim: Msg = [];
    int(dim, 1, d);
    bytesField(shape, 1, dim);
  }
  const tt: Msg = [];
  int(tt, 1, io.type);
  bytesField(tt, 2, shape);
  const type: Msg = [];
  bytesField(type, 1, tt);
  const m: Msg = [];
  str(m, 1, io.name);
  bytesField(m, 2, type);
  return m;
}

export function buildModel(g: { nodes: Node[]; inits: Init[]; inputs: IO[]; outputs: IO[]; opset?: number }): Uint8Array {
  const graph: Msg = [];
  g.nodes.forEach((n, i) => {
    const m: Msg = [];
    for (const x of n.inputs) str(m, 1, x);
    for (const x of n.outputs) str(m, 2, x);
    str(m, 3, `${n.op}_${i}`);
    str(m, 4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) bytesField(m, 5, attribute(k, v));
    if (n.domain) str(m, 7, n.domain);
    bytesField(graph, 1, m);
  });
  str(graph, 2, 'peer');
  for (const t of g.inits) {
    const m: Msg = [];
    for (const d of t.dims) int(m, 1, d);
    int(m, 2, t.type);
    str(m, 8, t.name);
    bytesField(m, 9, t.raw);
    bytesField(graph, 5, m);
  }
  for (const io of g.inputs) bytesField(graph, 11, valueInfo(io));
  for (const io of g.outputs) bytesField(graph, 12, valueInfo(io));
  const model: Msg = [];
  int(model, 1, 8); // ir_version
  const ops: [string, number][] = [['', g.opset ?? 17], ['com.microsoft', 1]];
  for (const [domain, version] of ops) {
    const m: Msg = [];
    str(m, 1, domain);
    int(m, 2, version);
    bytesField(model, 8, m);
  }
  str(model, 2, 'tessera-peers');
  bytesField(model, 7, graph);
  return Uint8Array.from(model);
}

export const f32raw = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
