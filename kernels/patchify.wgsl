// Patchify / unpatchify: pure data movement between a latent and patch tokens.
//   latent: [B, C, F, H, W]            (DiT / Latte 2D: F = 1 or frames folded, pt = 1)
//   tokens: [B, N, K],  N = F'·H'·W' with F' = F/pt, H' = H/ph, W' = W/pw,  K = C·pt·ph·pw
//   token n = f'·H'·W' + h'·W' + w'      (frame-major, then row, then column)
//   patch vector k, two orders (flag CLAST):
//     c-first (!CLAST): k = ((c·pt + kt)·ph + kh)·pw + kw   — c slowest, kw fastest; the order of a
//                       Conv3d weight [D, C, pt, ph, pw] reshaped to [D, C·pt·ph·pw], so patch
//                       embedding = patchify + GEMM with that weight (Wan, DiT, Latte inputs).
//     c-last  (CLAST):  k = ((kt·ph + kh)·pw + kw)·C + c   — c fastest; the order of diffusers'
//                       output heads (Wan permute (0,7,1,4,2,5,3,6), DiT/Latte 'nhwpqc->nchpwq').
//   latent element (b, c, f'·pt+kt, h'·ph+kh, w'·pw+kw)  ↔  token element (b, n, k).
// One invocation per destination element (coalesced writes, gathered reads):
//   !UNPATCH: dst = tokens, src = latent.   UNPATCH: dst = latent, src = tokens.
// Expects common/dtype.wgsl (T).

struct Params {
  total: u32,   // destination elements = B·C·F·H·W
  C: u32,
  Fp: u32,      // F'
  Hp: u32,      // H'
  Wp: u32,      // W'
  pt: u32,
  ph: u32,
  pw: u32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<T>;
@group(0) @binding(2) var<storage, read_write> dst: array<T>;

// Within-patch index k of (c, kt, kh, kw).
fn patch_index(c: u32, kt: u32, kh: u32, kw: u32) -> u32 {
#if CLAST
  return ((kt * p.ph + kh) * p.pw + kw) * p.C + c;
#else
  return ((c * p.pt + kt) * p.ph + kh) * p.pw + kw;
#endif
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) { return; }
  let F = p.Fp * p.pt;
  let H = p.Hp * p.ph;
  let W = p.Wp * p.pw;
  let N = p.Fp * p.Hp * p.Wp;
  let K = p.C * p.pt * p.ph * p.pw;

#if UNPATCH
  // i = latent index (b, c, f, h, w)
  let w = i % W;
  let h = (i / W) % H;
  let f = (i / (W * H)) % F;
  let c = (i / (W * H * F)) % p.C;
  let b = i / (W * H * F * p.C);
  let n = ((f / p.pt) * p.Hp + h / p.ph) * p.Wp + w / p.pw;
  let k = patch_index(c, f % p.pt, h % p.ph, w % p.pw);
  dst[i] = src[(b * N + n) * K + k];
#else
  // i = token index (b, n, k)
  let k = i % K;
  let n = (i / K) % N;
  let b = i / (K * N);
#if CLAST
  let c = k % p.C;
  let kw = (k / p.C) % p.pw;
  let kh = (k / (p.C * p.pw)) % p.ph;
  let kt = k / (p.C * p.pw * p.ph);
#else
  let kw = k % p.pw;
  let kh = (k / p.pw) % p.ph;
  let kt = (k / (p.pw * p.ph)) % p.pt;
  let c = k / (p.pw * p.ph * p.pt);
#endif
  let wp = n % p.Wp;
  let hp = (n / p.Wp) % p.Hp;
  let fp = n / (p.Wp * p.Hp);
  let f = fp * p.pt + kt;
  let h = hp * p.ph + kh;
  let w = wp * p.pw + kw;
  dst[i] = src[(((b * p.C + c) * F + f) * H + h) * W + w];
#endif
}
