// Convolution as an implicit GEMM (no im2col buffer), channels last, for the VAE decoders:
//   out[r, c, o] = bias[o] (+ res[r, c, o]) + Σ_{f, kh, kw, i} w[f, kh, kw, i, o] · X_f[u(r + kh − P), u(c + kw − P), i]
// with P = ks / 2 (zero padding), u(v) = v (plain) or ⌊v / 2⌋ (UP: nearest-2× upsampling folded
// into the indexing: the upsampled tensor is never written). Rows/columns of the (upsampled)
// virtual input outside [−1 .. rows] / [0, width) read zero.
//   X_f: up to three frames of one causal Conv3d: x0 = t−2, x1 = t−1, x2 = t (frames = 3), or
//        x2 alone (frames = 1: Conv2d, or Conv3d with kt = 1). The caller binds the causal frame
//        cache (earlier frames' inputs, or zeros) as x0/x1: buffer offsets, no concatenation.
//   Layout of every X_f / out / res: a row band [rows + 2 halo, width, C] with the interior from
//        element in_off / out_off; the halo rows (−1 and rows) are read by 3×3 kernels (zeros at
//        frame edges, neighbour bands' rows elsewhere). Input rows of an UP band are rows / 2.
//        Several independent images (the VAE's batch items / frames) may follow each other, image n
//        at element n · in_img (inputs) and n · out_img (out, res); the invocations cover them all.
//   w:   [frames·ks·ks taps, cin, c4·4] (vec4 over output channels, zero-padded past cout).
// One invocation: PX consecutive output pixels of one row × 4 output channels, f32 accumulators;
// per (tap, input channel) it loads one weight vec4 and PX inputs for 4·PX FMAs. VEC4 (cin a
// multiple of 4): per 4 input channels, 4 weight vec4s and PX input vec4s for 16·PX FMAs.
// Expects common/dtype.wgsl (T).

struct Params {
  rows: u32,      // output interior rows of this band
  width: u32,     // output width
  cin: u32,
  cout: u32,
  c4: u32,        // ceil(cout / 4)
  in_width: u32,  // input width (width / 2 with UP)
  frames: u32,    // 1 or 3
  ks: u32,        // 1 or 3
  up: u32,        // 1: nearest-2× upsampled input
  in_off: u32,    // element index of input row 0, column 0
  out_off: u32,   // element index of output row 0, column 0
  px_groups: u32, // ceil(width / PX)
  total: u32,     // images · rows · px_groups · c4 invocations
  cinv: u32,      // cin / 4 (VEC4) or cin: XV loads per pixel
  in_img: u32,    // elements from one input image to the next
  out_img: u32,   // elements from one output (and res) image to the next
}

override WG: u32 = 64;
override PX: u32 = 4;   // ≤ MAXPX
const MAXPX = 8u;

@group(0) @binding(0) var<uniform> p: Params;
#if VEC4
alias XV = vec4<T>;   // four input channels (cin % 4 == 0)
#else
alias XV = T;
#endif

@group(0) @binding(1) var<storage, read> x0: array<XV>;         // frame t−2 (or dummy)
@group(0) @binding(2) var<storage, read> x1: array<XV>;         // frame t−1 (or dummy)
@group(0) @binding(3) var<storage, read> x2: array<XV>;         // frame t
@group(0) @binding(4) var<storage, read> w: array<vec4<T>>;     // [taps, cin, c4]
@group(0) @binding(5) var<storage, read> bias: array<T>;        // [cout]
@group(0) @binding(6) var<storage, read> res: array<T>;         // like out, or dummy
@group(0) @binding(7) var<storage, read_write> out: array<T>;   // [rows + 2, width, cout]

alias Acc = array<vec4<f32>, MAXPX>;
alias Idx = array<u32, MAXPX>;
alias Keep = array<f32, MAXPX>;

// The weights of one input load and their product with it: VEC4 loads four input channels, so
// four weight vec4s (a matrix whose column j is input channel j's) times the four inputs; plain
// loads one channel and one weight vec4. One definition serves the three tap loops below.
#if VEC4
alias WM = mat4x4<f32>;
const WSTEP = 4u;   // weight rows per load
fn weights(wi: u32) -> WM { return WM(vec4<f32>(w[wi]), vec4<f32>(w[wi + p.c4]), vec4<f32>(w[wi + 2u * p.c4]), vec4<f32>(w[wi + 3u * p.c4])); }
fn product(wm: WM, x: XV, k: f32) -> vec4<f32> { return wm * (vec4<f32>(x) * k); }
#else
alias WM = vec4<f32>;
const WSTEP = 1u;
fn weights(wi: u32) -> WM { return vec4<f32>(w[wi]); }
fn product(wm: WM, x: XV, k: f32) -> vec4<f32> { return (f32(x) * k) * wm; }
#endif

// One tap over all input channels of one frame. The frame's binding is chosen once per tap
// (three copies of the loop, one per binding), not per load: a per-load branch cost ~2× on
// lavapipe. base[q] is in units of XV; wi0 indexes w at (tap, channel 0, co4).
fn tap0(base: ptr<function, Idx>, keep: ptr<function, Keep>, wi0: u32, acc: ptr<function, Acc>) {
  for (var i = 0u; i < p.cinv; i++) {
    let wm = weights(wi0 + i * WSTEP * p.c4);
    for (var q = 0u; q < PX; q++) { (*acc)[q] += product(wm, x0[(*base)[q] + i], (*keep)[q]); }
  }
}

fn tap1(base: ptr<function, Idx>, keep: ptr<function, Keep>, wi0: u32, acc: ptr<function, Acc>) {
  for (var i = 0u; i < p.cinv; i++) {
    let wm = weights(wi0 + i * WSTEP * p.c4);
    for (var q = 0u; q < PX; q++) { (*acc)[q] += product(wm, x1[(*base)[q] + i], (*keep)[q]); }
  }
}

fn tap2(base: ptr<function, Idx>, keep: ptr<function, Keep>, wi0: u32, acc: ptr<function, Acc>) {
  for (var i = 0u; i < p.cinv; i++) {
    let wm = weights(wi0 + i * WSTEP * p.c4);
    for (var q = 0u; q < PX; q++) { (*acc)[q] += product(wm, x2[(*base)[q] + i], (*keep)[q]); }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * WG;
  if (id >= p.total) { return; }
  let co4 = id % p.c4;
  let rest = id / p.c4;
  let c0 = (rest % p.px_groups) * PX;
  let ri = rest / p.px_groups;   // image · rows + row
  let img = ri / p.rows;
  let r = i32(ri % p.rows);
  let in_off = p.in_off + img * p.in_img;
  let pad = i32(p.ks / 2u);
  let f0 = 3u - p.frames;
  let rowlen = p.in_width * p.cin;
  var acc: Acc;
  for (var q = 0u; q < PX; q++) { acc[q] = vec4<f32>(0.0); }
  var base: Idx;
  var keep: Keep;
  let vw = p.cin / p.cinv;   // elements per XV: 4 (VEC4) or 1
  var tap = 0u;
  for (var f = f0; f < 3u; f++) {
    for (var kh = 0; kh < i32(p.ks); kh++) {
      var sr = r + kh - pad;               // row in the (upsampled) input, −1 .. rows
      if (p.up == 1u) { sr = sr >> 1u; }   // arithmetic shift: −1 stays −1 (the halo row)
      for (var kw = 0; kw < i32(p.ks); kw++) {
        for (var q = 0u; q < PX; q++) {
          let u = i32(c0 + q) + kw - pad;
          let ok = u >= 0 && u < i32(p.width) && c0 + q < p.width;
          var sc = u;
          if (p.up == 1u) { sc = u >> 1u; }
          keep[q] = select(0.0, 1.0, ok);
          base[q] = select(0u, u32(i32(in_off) + sr * i32(rowlen) + sc * i32(p.cin)) / vw, ok);
        }
        let wi = tap * p.cin * p.c4 + co4;
        if (f == 0u) { tap0(&base, &keep, wi, &acc); } else if (f == 1u) { tap1(&base, &keep, wi, &acc); } else { tap2(&base, &keep, wi, &acc); }
        tap++;
      }
    }
  }
  for (var q = 0u; q < PX; q++) {
    let c = c0 + q;
    if (c >= p.width) { break; }
    let o = p.out_off + img * p.out_img + (u32(r) * p.width + c) * p.cout;
    for (var j = 0u; j < 4u; j++) {
      let co = co4 * 4u + j;
      if (co >= p.cout) { break; }
      var y = acc[q][j] + f32(bias[co]);
#if RESIDUAL
      y += f32(res[o + co]);
#endif
      out[o + co] = T(y);
    }
  }
}
