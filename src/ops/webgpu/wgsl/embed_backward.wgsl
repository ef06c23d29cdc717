// The embedding's gradient (Backend::embed_backward): dE[ids[t], :] += dy[t, :]. The host
// groups the positions by id: the parameters hold the n_ids distinct ids, then n_ids + 1 starts,
// then the positions of each id in increasing order, so one invocation per (distinct id,
// column) adds that id's rows in position order: no two invocations write one element, and the
// sums are the CPU's, in its order. dy: [T, d], dE: [vocab, d].

struct Params {
  dy_off: u32,
  de_off: u32,
  n_ids: u32,
  d: u32,
  ids: array<u32>,
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  let d = P.d;
  let n = P.n_ids;
  if (i >= n * d) { return; }
  let u = i / d;
  let c = i % d;
  let o = P.de_off + P.ids[u] * d + c;
  var acc = buf_de[o];
  for (var j = P.ids[n + u]; j < P.ids[n + u + 1u]; j++) {
    acc += buf_dy[P.dy_off + P.ids[2u * n + 1u + j] * d + c];
  }
  buf_de[o] = acc;
}
