// The matrix products of training, one tiled kernel for all three:
//   C[m, n] (+)= alpha * (sum_k A(m, k) B(k, n) (+ bias[n]))
// with A(m, k) = a[a_off + m a_sm + k a_sk] and B(k, n) = b[b_off + k b_sk + n b_sn] (f32
// buffers), or with BW, B(k, n) = row k, column n of the uploaded weight w (any format, through
// weights_<format>.wgsl). Linear: x W^T (A = x, B = W^T); its input gradient: dy W; its weight
// gradient: dy^T x; the input gradient through a frozen weight: dy dequant(W) (BW).
// One workgroup of 64 invocations computes a 64 x 64 tile of C, each invocation 8 rows by 8
// columns (two interleaved groups of 4 each way, so that neighbouring invocations read
// neighbouring workgroup memory); A and B are staged in workgroup memory TK = 16 values of k at
// a time (8 KiB), each value used 64 times. Few invocations and few barriers per output: the
// same tile costs less where barriers are expensive (CPU implementations of WebGPU). Each
// output sums k in increasing order in blocks of KB = 64, the blocks' sums added in order (as
// the CPU's gemm does): shorter sequential sums round less, which the training fixtures need.
// Const BW (B from weights); the other choices are bits of P.flags (one pipeline for every
// product of f32 matrices; each branch is uniform): A_K (A is contiguous along k: the staging
// loads walk k), B_N (B contiguous along n), BIAS, ACC (C = C + the result), SPLIT (split-K for
// few tiles of a long k: workgroup z sums k from z k_split (a multiple of KB) into C + z M N as
// it is, split_sum.wgsl adds the splits). Grid: x = column tiles, y = row tiles, z = splits.

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
  k_split: u32,
  flags: u32,
}

// P.flags (MatmulTrainFlags in kernel_params.h)
const F_A_K: u32 = 1u;
const F_B_N: u32 = 2u;
const F_BIAS: u32 = 4u;
const F_ACC: u32 = 8u;
const F_SPLIT: u32 = 16u;

fn flag(f: u32) -> bool { return (P.flags & f) != 0u; }

const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;
const KB: u32 = 64u;

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

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * TN;
  let m0 = wid.y * TM;
  let kb = wid.z * P.k_split;  // this workgroup's values of k: kb .. ke - 1
  let ke = min(P.K, kb + P.k_split);
  let tx = lid % 8u;  // columns 4 tx .. and 32 + 4 tx ..
  let ty = lid / 8u;  // rows 4 ty .. and 32 + 4 ty ..
  // acc[4 (2 hm + hn) + i]: row 32 hm + 4 ty + i, columns 32 hn + 4 tx .. + 3
  var acc: array<vec4<f32>, 16>;
  var tot: array<vec4<f32>, 16>;  // the sums of the K blocks done
  for (var k0 = kb; k0 < ke; k0 += TK) {
    if ((k0 - kb) % KB == 0u && k0 > kb) {
      for (var r = 0u; r < 16u; r++) {
        tot[r] += acc[r];
        acc[r] = vec4<f32>(0.0);
      }
    }
    // Each invocation stages 16 values of A and 16 of B in 4 rounds, neighbours reading
    // neighbouring addresses.
    for (var q = 0u; q < 4u; q++) {
      let e = lid + 64u * q;  // 256 groups of 4 values per matrix
      if (flag(F_A_K)) {
        let m = e / 4u;
        let k = (e % 4u) * 4u;
        for (var j = 0u; j < 4u; j++) { at[(k + j) * (TM / 4u) + m / 4u][m % 4u] = a_at(m0 + m, k0 + k + j); }
      } else {
        let m = (e % 16u) * 4u;
        let k = e / 16u;
        at[k * (TM / 4u) + m / 4u] = vec4<f32>(a_at(m0 + m, k0 + k), a_at(m0 + m + 1u, k0 + k),
                                               a_at(m0 + m + 2u, k0 + k), a_at(m0 + m + 3u, k0 + k));
      }
      if (flag(F_B_N) || BW) {
        let n = (e % 16u) * 4u;
        let k = e / 16u;
        bt[k * (TN / 4u) + n / 4u] = b_vec4(k0 + k, n0 + n);
      } else {
        let k = e % 16u;
        let n = (e / 16u) * 4u;
        bt[k * (TN / 4u) + n / 4u] = b_vec4(k0 + k, n0 + n);
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let a0 = at[k * (TM / 4u) + ty];
      let a1 = at[k * (TM / 4u) + 8u + ty];
      let b0 = bt[k * (TN / 4u) + tx];
      let b1 = bt[k * (TN / 4u) + 8u + tx];
      acc[0] += a0.x * b0;
      acc[1] += a0.y * b0;
      acc[2] += a0.z * b0;
      acc[3] += a0.w * b0;
      acc[4] += a0.x * b1;
      acc[5] += a0.y * b1;
      acc[6] += a0.z * b1;
      acc[7] += a0.w * b1;
      acc[8] += a1.x * b0;
      acc[9] += a1.y * b0;
      acc[10] += a1.z * b0;
      acc[11] += a1.w * b0;
      acc[12] += a1.x * b1;
      acc[13] += a1.y * b1;
      acc[14] += a1.z * b1;
      acc[15] += a1.w * b1;
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 16u; r++) {
    let m = m0 + 32u * (r / 8u) + 4u * ty + r % 4u;
    if (m >= P.M) { continue; }
    let v4 = tot[r] + acc[r];
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + 32u * ((r / 4u) % 2u) + 4u * tx + j;
      if (n >= P.N) { continue; }
      var v = v4[j];
      if (flag(F_SPLIT)) {
        buf_c[P.c_off + (wid.z * P.M + m) * P.N + n] = v;
        continue;
      }
      if (flag(F_BIAS)) { v += buf_bias[P.bias_off + n]; }
      v *= P.alpha;
      let o = P.c_off + m * P.ldc + n;
      if (flag(F_ACC)) { v = buf_c[o] + v; }
      buf_c[o] = v;
    }
  }
}
