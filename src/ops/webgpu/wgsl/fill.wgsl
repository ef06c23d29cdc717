// x[i] = value for i < n, one invocation per element.

struct Params {
  x_off: u32,
  n: u32,
  value: f32,
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  if (i < P.n) { buf_x[P.x_off + i] = P.value; }
}
