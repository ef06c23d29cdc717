// Workgroup reductions with subgroup operations (feature tier "subgroups"). Assumes subgroups
// are consecutive ranges of local_invocation_index, as on every 1D workgroup in practice.
// Call from uniform control flow; the result is returned to every invocation.

struct Lane {
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
  @builtin(subgroup_size) sg_size: u32,
}

var<workgroup> red_v4: array<vec4<f32>, (WG + 3u) / 4u>;
var<workgroup> red_u: array<u32, (WG + 3u) / 4u>;

fn wg_sum4(v: vec4<f32>, ln: Lane) -> vec4<f32> {
  let s = subgroupAdd(v);
  if (ln.sg_lane == 0u) { red_v4[ln.lid / ln.sg_size] = s; }
  workgroupBarrier();
  let n = (WG + ln.sg_size - 1u) / ln.sg_size;
  var t = vec4<f32>(0.0);
  for (var i = 0u; i < n; i++) { t += red_v4[i]; }
  workgroupBarrier();
  return t;
}

fn wg_sum(v: f32, ln: Lane) -> f32 { return wg_sum4(vec4<f32>(v, 0.0, 0.0, 0.0), ln).x; }

fn wg_max(v: f32, ln: Lane) -> f32 {
  let s = subgroupMax(v);
  if (ln.sg_lane == 0u) { red_v4[ln.lid / ln.sg_size].x = s; }
  workgroupBarrier();
  let n = (WG + ln.sg_size - 1u) / ln.sg_size;
  var t = red_v4[0].x;
  for (var i = 1u; i < n; i++) { t = max(t, red_v4[i].x); }
  workgroupBarrier();
  return t;
}

// Largest value and its lowest index (values must not be NaN).
fn wg_argmax(v: f32, idx: u32, ln: Lane) -> u32 {
  let m = wg_max(v, ln);
  let cand = select(0xffffffffu, idx, v == m);
  let s = subgroupMin(cand);
  if (ln.sg_lane == 0u) { red_u[ln.lid / ln.sg_size] = s; }
  workgroupBarrier();
  let n = (WG + ln.sg_size - 1u) / ln.sg_size;
  var t = red_u[0];
  for (var i = 1u; i < n; i++) { t = min(t, red_u[i]); }
  workgroupBarrier();
  return t;
}
