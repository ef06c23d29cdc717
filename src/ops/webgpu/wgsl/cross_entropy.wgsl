// Cross-entropy of each row of logits against its target (ref::cross_entropy), one workgroup
// per row: loss[r] = logsumexp(row) - row[target]; dl[r, :] = softmax(row) * grad_scale, minus
// grad_scale at the target. An ignored target (0xffffffff): loss 0, gradient 0. dl may be
// logits itself (each element is read before the invocation that owns it writes it).
// With ROW_THREAD (small vocabularies) one invocation per row instead (no barriers).
// logits, dl: [rows, V]; the targets in the parameters.

struct Params {
  logits_off: u32,
  loss_off: u32,
  dl_off: u32,
  rows: u32,
  V: u32,
  grad_scale: f32,
  ids: array<u32>,
}

// Row r's loss, and its gradient over the elements first, first + step, ...
fn store_row(r: u32, mx: f32, sum: f32, picked: f32, first: u32, step: u32) {
  let V = P.V;
  let lo = P.logits_off + r * V;
  let dlo = P.dl_off + r * V;
  let tgt = P.ids[r];
  let k = P.grad_scale / sum;
  for (var i = first; i < V; i += step) {
    let e = exp(buf_logits[lo + i] - mx) * k;
    buf_dl[dlo + i] = select(e, e - P.grad_scale, i == tgt);
  }
  if (first == 0u) { buf_loss[P.loss_off + r] = mx + log(sum) - picked; }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ln: Lane) {
  if (ROW_THREAD) {
    let r = wg_linear(wid, nwg) * WG + ln.lid;
    if (r < P.rows) {
      let V = P.V;
      let lo = P.logits_off + r * V;
      let tgt = P.ids[r];
      if (tgt >= V) {
        for (var i = 0u; i < V; i++) { buf_dl[P.dl_off + r * V + i] = 0.0; }
        buf_loss[P.loss_off + r] = 0.0;
      } else {
        var mx = -3.0e38;
        for (var i = 0u; i < V; i++) { mx = max(mx, buf_logits[lo + i]); }
        var part = vec4<f32>(0.0);  // four interleaved partial sums
        for (var i = 0u; i < V; i++) { part[i % 4u] += exp(buf_logits[lo + i] - mx); }
        store_row(r, mx, (part.x + part.y) + (part.z + part.w), buf_logits[lo + tgt], 0u, 1u);
      }
    }
    return;
  }
  let r = wg_linear(wid, nwg);
  if (r >= P.rows) { return; }
  let V = P.V;
  let lo = P.logits_off + r * V;
  let dlo = P.dl_off + r * V;
  let tgt = P.ids[r];
  if (tgt >= V) {
    for (var i = ln.lid; i < V; i += WG) { buf_dl[dlo + i] = 0.0; }
    if (ln.lid == 0u) { buf_loss[P.loss_off + r] = 0.0; }
    return;
  }
  var mx = -3.0e38;
  for (var i = ln.lid; i < V; i += WG) { mx = max(mx, buf_logits[lo + i]); }
  mx = wg_max(mx, ln);
  var sum = 0.0;
  for (var i = ln.lid; i < V; i += WG) { sum += exp(buf_logits[lo + i] - mx); }
  sum = wg_sum(sum, ln);
  let picked = buf_logits[lo + tgt];
  workgroupBarrier();  // every invocation has read the target's logit before it is overwritten
  store_row(r, mx, sum, picked, ln.lid, WG);
}
