// The workgroup's sum of one f32 per invocation, for kernels that give a workgroup to each row
// (norm, norm_rope; needs `override WG` and the `SG` flag). Default: a tree in workgroup memory,
// log2(WG) + 2 barriers. SG (adapters with subgroups): subgroupAdd, then one strided pass over the
// subgroups' partials, two barriers; the kernel sets `lane`/`lanes` at entry (wg_sum_init).

#if SG
enable subgroups;
#endif

var<workgroup> red: array<f32, WG>;

#if SG
var<private> lane: u32;    // subgroup_invocation_id
var<private> lanes: u32;   // active lanes of this invocation's subgroup

/** Call first, in uniform control flow, with the invocation's subgroup_invocation_id. */
fn wg_sum_init(sl: u32) {
  lane = sl;
  lanes = subgroupAdd(1u);
}

/** Each subgroup adds its lanes; its lane 0 leaves that at its own index of `red` (zeros at the
 *  others), and each subgroup then adds the WG slots strided by its lane count. Needs no
 *  particular mapping of lanes to local_invocation_index. */
fn wg_sum(v: f32, lid: u32) -> f32 {
  let s = subgroupAdd(v);
  red[lid] = select(0.0, s, lane == 0u);
  workgroupBarrier();
  var t = 0.0;
  for (var i = lane; i < WG; i += lanes) { t += red[i]; }
  let r = subgroupAdd(t);
  workgroupBarrier();
  return r;
}
#else
fn wg_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  var s = WG / 2u;
  loop {
    if (s == 0u) { break; }
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
    s = s / 2u;
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
#endif
