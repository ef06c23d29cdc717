// One AdamW step (ref::adamw, PyTorch's semantics; the scalars of AdamWStep), one invocation
// per element:
//   g = grad grad_scale; param = param decay; m = beta1 m + (1 - beta1) g;
//   v = beta2 v + (1 - beta2) g^2; param = param + (-step_size m) / (sqrt(v) / bias2_sqrt + eps)

struct Params {
  p_off: u32,
  g_off: u32,
  m_off: u32,
  v_off: u32,
  n: u32,
  grad_scale: f32,
  decay: f32,
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  step_size: f32,
  bias2_sqrt: f32,
  eps: f32,
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  if (i >= P.n) { return; }
  let g = buf_g[P.g_off + i] * P.grad_scale;
  let p = buf_p[P.p_off + i] * P.decay;
  let m = buf_m[P.m_off + i] * P.beta1 + P.one_minus_beta1 * g;
  let v = buf_v[P.v_off + i] * P.beta2 + P.one_minus_beta2 * g * g;
  buf_m[P.m_off + i] = m;
  buf_v[P.v_off + i] = v;
  buf_p[P.p_off + i] = p + (-P.step_size * m) / (sqrt(v) / P.bias2_sqrt + P.eps);
}
