// The matrix products of training, one tiled kernel for all three:
//   C[m, n] (+)= alpha * (sum_k A(m, k) B(k, n) (+ bias[n]))
// with A(m, k) = a[a_off + m a_sm + k a_sk] and B(k, n) = b[b_off + k b_sk + n b_sn] (f32
// buffers), or with BW, B(k, n) = row k, column n of the uploaded weight w (any format, through
// weights_<format>.wgsl). Linear: x W^T (A = x, B = W^T); its input gradient: dy W; its weight
// gradient: dy^T x; the input gradient through a frozen weight: dy dequant(W) (BW).
// One workgroup of 256 invocations computes a 64 x 64 tile of C, each invocation 4 rows by 4
// columns; A and B are staged in workgroup memory TK = 16 values of k at a time (8 KiB), each
// value used 64 times. Each output is one sum over k in increasing order.
// Consts: A_K (A is contiguous along k: the staging loads walk k), B_N (B contiguous along n),
// BW, BIAS, ACC (C = C + the result). Grid: x = column tiles, y = row tiles.

struct Params {
  a_off: u32,
  a_sm: u32,
  a_sk: u32,
  b_off: u32,
  b_sk: u32,
  b_sn: u32,
  c_off: u32,
  ldc: u32,
  bias_off: u32,
  M: u32,
  N: u32,
  K: u32,
  alpha: f32,
  w: WeightRef,
}

const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;

var<workgroup> at: array<vec4<f32>, TK * TM / 4u>;  // [k][m / 4]
var<workgroup> bt: array<vec4<f32>, TK * TN / 4u>;  // [k][n / 4]

fn a_at(m: u32, k: u32) -> f32 {
  if (m >= P.M || k >= P.K) { return 0.0; }
  return buf_a[P.a_off + m * P.a_sm + k * P.a_sk];
}

fn b_at(k: u32, n: u32) -> f32 {
  if (k >= P.K || n >= P.N) { return 0.0; }
  return buf_b[P.b_off + k * P.b_sk + n * P.b_sn];
}

// B(k, n .. n + 3), zero past K and N.
fn b_vec4(k: u32, n: u32) -> vec4<f32> {
  if (BW) {
    if (k >= P.K || n >= P.N) { return vec4<f32>(0.0); }
    let v = w_vec4(P.w, k, n);
    return select(vec4<f32>(0.0), v, vec4<u32>(n) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(P.N));
  }
  return vec4<f32>(b_at(k, n), b_at(k, n + 1u), b_at(k, n + 2u), b_at(k, n + 3u));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * TN;
  let m0 = wid.y * TM;
  let tx = lid % 16u;  // columns 4 tx ..
  let ty = lid / 16u;  // rows 4 ty ..
  var acc: array<vec4<f32>, 4>;  // acc[i]: row 4 ty + i, columns 4 tx .. 4 tx + 3
  for (var k0 = 0u; k0 < P.K; k0 += TK) {
    // Each invocation stages 4 values of A and 4 of B, neighbours reading neighbouring addresses.
    if (A_K) {
      let m = lid / 4u;
      let k = (lid % 4u) * 4u;
      for (var j = 0u; j < 4u; j++) { at[(k + j) * (TM / 4u) + m / 4u][m % 4u] = a_at(m0 + m, k0 + k + j); }
    } else {
      let m = (lid % 16u) * 4u;
      let k = lid / 16u;
      at[k * (TM / 4u) + m / 4u] = vec4<f32>(a_at(m0 + m, k0 + k), a_at(m0 + m + 1u, k0 + k),
                                             a_at(m0 + m + 2u, k0 + k), a_at(m0 + m + 3u, k0 + k));
    }
    if (B_N || BW) {
      let n = (lid % 16u) * 4u;
      let k = lid / 16u;
      bt[k * (TN / 4u) + n / 4u] = b_vec4(k0 + k, n0 + n);
    } else {
      let k = lid % 16u;
      let n = (lid / 16u) * 4u;
      bt[k * (TN / 4u) + n / 4u] = b_vec4(k0 + k, n0 + n);
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let a = at[k * (TM / 4u) + ty];
      let b = bt[k * (TN / 4u) + tx];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + ty * 4u + i;
    if (m >= P.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + tx * 4u + j;
      if (n >= P.N) { continue; }
      var v = acc[i][j];
      if (BIAS) { v += buf_bias[P.bias_off + n]; }
      v *= P.alpha;
      let o = P.c_off + m * P.ldc + n;
      if (ACC) { v = buf_c[o] + v; }
      buf_c[o] = v;
    }
  }
}
