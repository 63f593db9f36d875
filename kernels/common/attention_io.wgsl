// Shared by the attention kernels (attention, attention_fa2): the uniform block, the bindings
// and `score()`, the one place a score is formed. Layout: q, o [B, Lq, H·Dh], k, v [B, Lk, H·Dh]
// (token-major, heads packed in each token; head h of token t starts at t·H·Dh + h·Dh), all read
// as vec4 (Dh = 4·dh4). Expects common/dtype.wgsl (T).
//
// KEYFOLD (Wan's cross-attention to zero-padded text): diffusers' WanPipeline (pipeline_wan.py
// _get_t5_prompt_embeds) zero-pads the UMT5 embeddings to max_sequence_length rows, and
// WanTransformer3DModel (transformer_wan.py) attends to all of them with no mask. Padded text rows
// are equal, so after the row-wise text embedder, K/V projections and norm_k their keys and values
// are equal too, and softmax over n equal keys of score s is softmax over one key of score
// s + ln n with the same value. So with klen[b] = the keys before batch item b's trailing run of
// equal keys, key klen[b] stands for the Lk − klen[b] keys of the run (+ log2(Lk − klen[b]) in the
// log2 units of the scores) and the keys after it are skipped: exact, up to rounding.

struct Params {
  lq: u32,
  lk: u32,
  heads: u32,
  dh4: u32,          // head dim / 4, 2..32
  q_blocks: u32,     // ceil(lq / query rows per workgroup)
  groups: u32,       // B · heads · q_blocks
  scale_log2: f32,   // scale · log2(e)
  n_buckets: u32,    // rows of the bias table (RELBIAS)
}

const NEG_BIG = -3.4e38;   // "minus infinity" of the running max: finite, so exp2(m − m') never sees inf − inf

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<T>>;        // [B, Lq, H·Dh]
@group(0) @binding(2) var<storage, read> k: array<vec4<T>>;        // [B, Lk, H·Dh]
@group(0) @binding(3) var<storage, read> v: array<vec4<T>>;        // [B, Lk, H·Dh]
@group(0) @binding(4) var<storage, read_write> o: array<vec4<T>>;  // [B, Lq, H·Dh]
@group(0) @binding(5) var<storage, read> rel_bias: array<T>;       // [n_buckets, H] (RELBIAS) or dummy
@group(0) @binding(6) var<storage, read> buckets: array<u32>;      // [Lq + Lk − 1] (RELBIAS) or dummy
@group(0) @binding(7) var<storage, read> klen: array<u32>;         // [B] (KEYMASK, KEYFOLD) or dummy

// Score of one (query row `row`, key `key`) of head h, batch item b in log2 units from q·k
// (q pre-scaled by scale·log2(e)); keys past Lk (`key_ok` false) or klen[b] get NEG_BIG (p = 0).
//   RELBIAS (T5/UMT5): + bias[bucket(j − i), h]·log2(e), the bucket of each relative position
//            j − i read from `buckets` [Lq + Lk − 1] (index j − i + Lq − 1), the bias from the
//            layer's [num_buckets, H] table: per head and bucket, no Lq×Lk buffer.
//   KEYMASK: keys j ≥ klen[b] get NEG_BIG (p = 0), like keys past Lk (a right-padded mask).
//   KEYFOLD: key j = klen[b] gets + log2(Lk − klen[b]) (it stands for the trailing run of equal
//            keys, header above), keys j > klen[b] get NEG_BIG; klen[b] = Lk folds nothing.
fn score(qk: f32, key_ok: bool, row: u32, key: u32, h: u32, b: u32) -> f32 {
  var ok = key_ok;
  var sc = qk;
#if KEYMASK
  ok = ok && key < klen[b];
#endif
#if KEYFOLD
  let kf = klen[b];
  ok = ok && key <= kf;
  sc += select(0.0, log2(f32(max(p.lk, kf + 1u) - kf)), key == kf);
#endif
#if RELBIAS
  // relative position key − row, offset by lq − 1 so it indexes from 0; clamped for keys past Lk (masked anyway)
  let rp = min(key + p.lq - 1u - row, p.lq + p.lk - 2u);
  let bucket = min(buckets[rp], p.n_buckets - 1u);
  sc += f32(rel_bias[bucket * p.heads + h]) * 1.4426950408889634;
#endif
  return select(NEG_BIG, sc, ok);
}

// One past the last key of batch item b that can get p > 0: the key loop's bound in both kernels
// (the tiles after it would add exactly 0). Uniform per workgroup (b is; klen is read-only).
fn key_end(b: u32) -> u32 {
  var n = p.lk;
#if KEYMASK
  n = min(n, klen[b]);
#endif
#if KEYFOLD
  n = min(n, klen[b] + 1u);
#endif
  return n;
}

// The (query block, head, batch item) of workgroup `flat` (= wid.x + wid.y·nwg.x; the grid
// folds over x/y), query block fastest.
fn block_of(flat: u32) -> vec3<u32> {
  let bh = flat / p.q_blocks;
  return vec3<u32>(flat % p.q_blocks, bh % p.heads, bh / p.heads);
}
