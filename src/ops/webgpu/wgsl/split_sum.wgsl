// The second pass of split-K products (matmul_train.wgsl with SPLIT): C[m, n] (+)= alpha *
// (the splits' sums part[s, m, n] added in order (+ bias[n])), BIAS and ACC as flags (the bits
// of matmul_train.wgsl's). One invocation per element.

struct Params {
  part_off: u32,
  c_off: u32,
  ldc: u32,
  bias_off: u32,
  M: u32,
  N: u32,
  splits: u32,
  alpha: f32,
  flags: u32,
}

// The bits of P.flags it reads (MatmulTrainFlags in kernel_params.h).
const F_BIAS: u32 = 4u;
const F_ACC: u32 = 8u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  let mn = P.M * P.N;
  if (i >= mn) { return; }
  let m = i / P.N;
  let n = i % P.N;
  var v = 0.0;
  for (var s = 0u; s < P.splits; s++) { v += buf_part[P.part_off + s * mn + i]; }
  if ((P.flags & F_BIAS) != 0u) { v += buf_bias[P.bias_off + n]; }
  v *= P.alpha;
  let o = P.c_off + m * P.ldc + n;
  if ((P.flags & F_ACC) != 0u) { v = buf_c[o] + v; }
  buf_c[o] = v;
}
