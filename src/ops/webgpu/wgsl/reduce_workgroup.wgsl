// Workgroup reductions through workgroup memory (feature tier "none"): a tree over WG slots,
// WG a power of two. Call from uniform control flow; every invocation gets the result.

struct Lane {
  @builtin(local_invocation_index) lid: u32,
}

var<workgroup> red_v4: array<vec4<f32>, WG>;
var<workgroup> red_u: array<u32, WG>;

fn wg_sum4(v: vec4<f32>, ln: Lane) -> vec4<f32> {
  red_v4[ln.lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (ln.lid < s) { red_v4[ln.lid] += red_v4[ln.lid + s]; }
    workgroupBarrier();
  }
  let t = red_v4[0];
  workgroupBarrier();
  return t;
}

fn wg_sum(v: f32, ln: Lane) -> f32 { return wg_sum4(vec4<f32>(v, 0.0, 0.0, 0.0), ln).x; }

fn wg_max(v: f32, ln: Lane) -> f32 {
  red_v4[ln.lid].x = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (ln.lid < s) { red_v4[ln.lid].x = max(red_v4[ln.lid].x, red_v4[ln.lid + s].x); }
    workgroupBarrier();
  }
  let t = red_v4[0].x;
  workgroupBarrier();
  return t;
}

// Largest value and its lowest index (values must not be NaN).
fn wg_argmax(v: f32, idx: u32, ln: Lane) -> u32 {
  let m = wg_max(v, ln);
  red_u[ln.lid] = select(0xffffffffu, idx, v == m);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (ln.lid < s) { red_u[ln.lid] = min(red_u[ln.lid], red_u[ln.lid + s]); }
    workgroupBarrier();
  }
  let t = red_u[0];
  workgroupBarrier();
  return t;
}
