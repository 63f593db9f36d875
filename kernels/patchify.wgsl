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
// One invocation per token (b, n), moving its K values in nested loops over (c, kt, kh, kw):
//   !UNPATCH: dst = tokens, src = latent.   UNPATCH: dst = latent, src = tokens.
// The token's coordinates cost five u32 divisions per token; the per-element version paid ~13
// per element, and on llvmpipe each vector u32 division is 8 scalar divides (measured there: the
// demo's patchify/unpatchify went from ~8 ms to ~1 ms; see bench/RESULTS.md "Fused epilogues").
// Neighbouring invocations read neighbouring patches (latent addresses pw apart).
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
  let t = gid.x + gid.y * nwg.x * WG;   // token b·N + n
  let F = p.Fp * p.pt;
  let H = p.Hp * p.ph;
  let W = p.Wp * p.pw;
  let N = p.Fp * p.Hp * p.Wp;
  let K = p.C * p.pt * p.ph * p.pw;
  if (t >= p.total / K) { return; }
  let b = t / N;
  let n = t % N;
  let wp = n % p.Wp;
  let hp = (n / p.Wp) % p.Hp;
  let fp = n / (p.Wp * p.Hp);
  let tb = t * K;
  for (var c = 0u; c < p.C; c++) {
    for (var kt = 0u; kt < p.pt; kt++) {
      for (var kh = 0u; kh < p.ph; kh++) {
        // latent (b, c, fp·pt + kt, hp·ph + kh, wp·pw + kw) for kw = 0
        let lrow = (((b * p.C + c) * F + fp * p.pt + kt) * H + hp * p.ph + kh) * W + wp * p.pw;
        for (var kw = 0u; kw < p.pw; kw++) {
          let ti = tb + patch_index(c, kt, kh, kw);
#if UNPATCH
          dst[lrow + kw] = src[ti];
#else
          dst[ti] = src[lrow + kw];
#endif
        }
      }
    }
  }
}
