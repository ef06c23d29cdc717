// Top-k pre-selection for the sampler: workgroup g takes the S logits g S .. g S + S - 1 (as
// the sampler sees them: NaN as -inf, penalties applied), sorts them by (logit desc, id asc),
// the sampler's order, and writes its first k to the candidate list in id order: values at
// cand_off + g k + r, ids (as floats) at cand_off + n_wg k + g k + r. Each slice's first k hold
// every one of the global first k that lies in the slice, and the slices are in id order, so
// sample.wgsl with CAND over the n_wg k candidates picks what it would pick over all n logits:
// top-k keeps the same tokens, the max is among them, and the draw walks them in id order.
// Positions past n sort last and are written as -inf (weight 0) with ids n + i.
// Consts: WG, S (= 4 WG, a power of two), PEN, CAND (false). Parameters (sample_common.wgsl):
// x_off, n, out_off (cand_off), pen_off, top_k (k, 1 <= k <= S), the penalties.
// Grid: ceil(n / S) workgroups.

var<workgroup> keys: array<u32, S>;
var<workgroup> ids: array<u32, S>;

// Whether (ka, ia) comes before (kb, ib): larger key first, then lower id.
fn before(ka: u32, ia: u32, kb: u32, ib: u32) -> bool { return ka > kb || (ka == kb && ia < ib); }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wg_linear(wid, nwg);
  let n = P.n;
  let k = P.top_k;
  let n_wg = (n + S - 1u) / S;
  for (var e = lid; e < S; e += WG) {
    let i = g * S + e;
    // Keys of real logits are at least key_of(-inf) > 0: the padding's 0 sorts last.
    keys[e] = select(0u, key_of(logit(min(i, n - 1u))), i < n);
    ids[e] = i;
  }
  workgroupBarrier();
  // Bitonic sort of S entries into the order above: stages of compare-exchanges at distance j.
  for (var size = 2u; size <= S; size <<= 1u) {
    for (var j = size >> 1u; j > 0u; j >>= 1u) {
      for (var p = lid; p < S / 2u; p += WG) {
        let a = 2u * j * (p / j) + p % j;  // the lower of the pair
        let b = a + j;
        let up = (a & size) == 0u;         // this run is sorted into the order (else reversed)
        let ka = keys[a];
        let kb = keys[b];
        let ia = ids[a];
        let ib = ids[b];
        if (before(kb, ib, ka, ia) == up) {
          keys[a] = kb;
          keys[b] = ka;
          ids[a] = ib;
          ids[b] = ia;
        }
      }
      workgroupBarrier();
    }
  }
  // The first k, written in id order (rank among them by id).
  if (g < n_wg && lid < k) {
    let id = ids[lid];
    var rank = 0u;
    for (var r = 0u; r < k; r++) { rank += select(0u, 1u, ids[r] < id); }
    let key = keys[lid];
    // The key back to its logit (the sampler's order key is a bijection on non-NaN floats).
    let l = bitcast<f32>(select(~key, key & 0x7fffffffu, (key & 0x80000000u) != 0u));
    let o = P.out_off + g * k + rank;
    buf_cand[o] = select(neg_inf(), l, id < n);
    buf_cand[o + n_wg * k] = f32(id);
  }
}
