// Elementwise ops, i < n: add: out = a + b (x += y with out = a); swiglu: out = silu(a) * b;
// copy: out = a. One invocation per element.

struct Params {
  a_off: u32,
  b_off: u32,
  out_off: u32,
  n: u32,
}

// The op is the constant OP, one of these (ElementwiseOp in kernel_params.h).
const OP_ADD = 0u;
const OP_SWIGLU = 1u;
const OP_COPY = 2u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  if (i >= P.n) { return; }
  let a = buf_a[P.a_off + i];
  var r = a;
  if (OP == OP_ADD) {
    r = a + buf_b[P.b_off + i];
  } else if (OP == OP_SWIGLU) {
    r = a / (1.0 + exp(-a)) * buf_b[P.b_off + i];
  }
  buf_out[P.out_off + i] = r;
}
