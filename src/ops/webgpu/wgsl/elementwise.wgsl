// Elementwise ops, i < n: OP 0 add: out = a + b (x += y with out = a); OP 1 swiglu:
// out = silu(a) * b; OP 2 copy: out = a. One invocation per element.
// P: 0 a_off, 1 b_off, 2 out_off, 3 n

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  if (i >= pu(3)) { return; }
  let a = buf_a[pu(0) + i];
  var r = a;
  if (OP == 0u) {
    r = a + buf_b[pu(1) + i];
  } else if (OP == 1u) {
    r = a / (1.0 + exp(-a)) * buf_b[pu(1) + i];
  }
  buf_out[pu(2) + i] = r;
}
