// FlashAttention-2-style attention, shaped for GPUs: O = softmax(Q·Kᵀ·scale [+ bias] [masked])·V
// per batch item and head (Dao 2023, "FlashAttention-2": query rows split over the workgroup,
// K/V tiles shared through workgroup memory, one online-softmax state per row, the rescale
// applied once per tile). Layout, uniforms, bindings and score(): common/attention_io.wgsl.
//   q, o: [B, Lq, H·Dh]   k, v: [B, Lk, H·Dh]   Dh = 4·dh4, 8..128 (a runtime uniform).
// One workgroup = WG/4 query rows of one (batch, head). Each row belongs to 4 neighbouring lanes
// (c = lid mod 4) that split its head dim: lane c owns vec4s c, c+4, c+8, … (DPL = 8 slots:
// Dh ≤ 128), so per invocation the state is the q slice and the output accumulator slice (2·32
// floats at Dh = 128), the BK tile scores and m, l: bounded by the head-dim split, not RPT·Dh.
// The slot loops have constant bounds (DPL, BK), so GPU compilers keep q, acc and s in registers;
// slots past dh4 are skipped by a runtime test (one pipeline for every head dim, and no
// head-dim-sized unroll: compile stays seconds on lavapipe).
// Per tile of up to BK keys (fewer when BK·dh4 vec4s exceed the tile, TV vec4s per matrix):
//   1. the workgroup stages the K and V rows in workgroup memory (coalesced vec4 loads);
//   2. Q·Kᵀ: each lane forms partial dot products over its head-dim slice for every key of the
//      tile; the 4 lanes of a row sum them — SG: two subgroupShuffleXor steps (1, 2), which
//      needs the row's 4 lanes to be 4 aligned consecutive lanes of one subgroup (subgroups of
//      consecutive invocations, size ≥ 4); without SG: through workgroup memory (`red`), the
//      variant for adapters without subgroups (SwiftShader, some browsers);
//   3. online softmax in f32 (exp2, log2(e) folded into the scale; m starts at −3.4e38), each lane
//      holding its row's full scores; acc = alpha·acc + P·V over its own head-dim slice.
// Rows past Lq compute a copy of the last row (barriers stay uniform) and are not stored; keys
// past Lk (or klen[b]; KEYFOLD: past klen[b], key klen[b] standing for the trailing run of equal keys,
// common/attention_io.wgsl) get p = 0, and the key loop stops at key_end(b). No Lq×Lk buffer exists.
// Workgroups fold over x/y: flat id = wid.x + wid.y·nwg.x enumerates (b, h, query block),
// query block fastest. Expects common/dtype.wgsl (T) and common/attention_io.wgsl.

#if SG
enable subgroups;
#endif

override WG: u32 = 64;   // invocations per workgroup: WG/4 query rows
override BK: u32 = 16;   // keys per tile at most (≤ MAXBK)

const LPR = 4u;          // lanes per query row
const DPL = 8u;          // head-dim vec4 slots per lane: Dh ≤ 4·LPR·DPL = 128
const MAXBK = 32u;
// vec4s of the K tile and of the V tile: 4 KiB each whatever the storage type's size, so the
// tiles and `red` (WG·BK f32) fit the 16 KiB of workgroup memory every adapter has
#if F16
const TV = 512u;
#else
const TV = 256u;
#endif

var<workgroup> kt: array<vec4<T>, TV>;   // K tile [keys, dh4] (row stride dh4)
var<workgroup> vt: array<vec4<T>, TV>;   // V tile [keys, dh4]
#if !SG
var<workgroup> red: array<f32, WG * BK>; // partial scores [lane, key] for the 4-lane sums
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= p.groups) { return; }   // uniform per workgroup
  let blk = block_of(flat);
  let qb = blk.x;
  let h = blk.y;
  let b = blk.z;
  let dh4 = p.dh4;
  let tok4 = p.heads * dh4;           // vec4s per token
  let c = lid % LPR;                  // this lane's head-dim slice
  let qrow = qb * (WG / LPR) + lid / LPR;
  let row = min(qrow, p.lq - 1u);

  var qv: array<vec4<f32>, DPL>;      // scaled q, slots c + LPR·i
  var acc: array<vec4<f32>, DPL>;     // output accumulator, same slots
  let qbase = (b * p.lq + row) * tok4 + h * dh4;
  for (var i = 0u; i < DPL; i++) {
    let d = c + LPR * i;
    qv[i] = select(vec4<f32>(0.0), vec4<f32>(q[qbase + min(d, dh4 - 1u)]) * p.scale_log2, d < dh4);
    acc[i] = vec4<f32>(0.0);
  }
  var m = NEG_BIG;                    // running max (log2 units)
  var l = 0.0;                        // running sum
  let bk = min(BK, TV / dh4);         // keys per tile
  let kbase = b * p.lk * tok4 + h * dh4;
  let kend = key_end(b);              // keys past it get p = 0 (KEYMASK, KEYFOLD): not visited
  for (var k0 = 0u; k0 < kend; k0 += bk) {
    let nk = min(bk, kend - k0);
    // 1. stage rows k0..k0+nk of this head's K and V
    for (var i = lid; i < nk * dh4; i += WG) {
      let j = i / dh4;
      let g = kbase + (k0 + j) * tok4 + (i - j * dh4);
      kt[i] = k[g];
      vt[i] = v[g];
    }
    workgroupBarrier();

    // 2. partial q·k over this lane's slots, then the sum over the row's 4 lanes
    var s: array<f32, MAXBK>;
    for (var j = 0u; j < BK; j++) {
      var part = 0.0;
      if (j < nk) {
        for (var i = 0u; i < DPL; i++) {
          let d = c + LPR * i;
          if (d < dh4) { part += dot(qv[i], vec4<f32>(kt[j * dh4 + d])); }
        }
      }
      s[j] = part;
    }
#if SG
    for (var j = 0u; j < BK; j++) {
      var x = s[j];
      x += subgroupShuffleXor(x, 1u);
      x += subgroupShuffleXor(x, 2u);
      s[j] = x;
    }
#else
    for (var j = 0u; j < BK; j++) { red[lid * BK + j] = s[j]; }
    workgroupBarrier();
    let r0 = (lid - c) * BK;          // the row's first lane
    for (var j = 0u; j < BK; j++) { s[j] = (red[r0 + j] + red[r0 + BK + j]) + (red[r0 + 2u * BK + j] + red[r0 + 3u * BK + j]); }
#endif

    // 3. online softmax and acc = alpha·acc + P·V over this lane's slots
    var mt = m;
    for (var j = 0u; j < BK; j++) {
      let sj = score(s[j], j < nk, row, k0 + j, h, b);
      s[j] = sj;
      mt = max(mt, sj);
    }
    let alpha = exp2(m - mt);
    m = mt;
    l *= alpha;
    for (var i = 0u; i < DPL; i++) { acc[i] *= alpha; }
    for (var j = 0u; j < BK; j++) {
      let pj = exp2(s[j] - mt);
      l += pj;
      if (j < nk) {
        for (var i = 0u; i < DPL; i++) {
          let d = c + LPR * i;
          if (d < dh4) { acc[i] += pj * vec4<f32>(vt[j * dh4 + d]); }
        }
      }
    }
    workgroupBarrier();               // the tile (and red) are rewritten next
  }

  if (qrow < p.lq) {
    let obase = (b * p.lq + qrow) * tok4 + h * dh4;
    let inv = 1.0 / l;
    for (var i = 0u; i < DPL; i++) {
      let d = c + LPR * i;
      if (d < dh4) { o[obase + d] = vec4<T>(acc[i] * inv); }
    }
  }
}
