// Matrix-matrix product for prefill: out[t, row0 + r] = sum_i x[t, i] W[r, i] (+ bias). One
// workgroup of 256 invocations computes a TM (tokens) x 128 (rows) tile; each invocation 8 rows
// by TM / 16 tokens, its rows and tokens two interleaved groups of 4 (so that the workgroup
// memory reads of neighbouring invocations are contiguous). x and the dequantized W are staged
// in workgroup memory TK = 32 columns at a time (32 KiB with TM = 128), each W element
// dequantized once per tile and used TM times.
// x: [T, cols], out: [T, out_stride]; rows row0.. of out. Consts: TM (64 or 128), XV4 (x_off and
// cols multiples of 4: x read through the vec4 view xv), BIAS (add bias[row0 + r]), ACC (out =
// out + the product: matmul_add), RESID (then res[t, row0 + r] += the stored value: the residual
// add after o_proj / down_proj; res has out's row stride).
// Grid: x = row tiles, y = token tiles.

struct Params {
  x_off: u32,
  out_off: u32,
  bias_off: u32,
  T: u32,
  cols: u32,
  out_stride: u32,
  row0: u32,
  nrows: u32,
  w: WeightRef,
  res_off: u32,
}

const TN: u32 = 128u;
const TK: u32 = 32u;
const RM: u32 = TM / 16u;  // tokens per invocation: 4 or 8
const HALF_M: u32 = TM / 2u;

var<workgroup> xs: array<vec4<f32>, TK * TM / 4u>;  // [k][token / 4]
var<workgroup> ws: array<vec4<f32>, TK * TN / 4u>;  // [k][row / 4]

// Columns c..c+3 of token t's x (zero past the row's end and past T).
fn x_vec4(t: u32, c: u32) -> vec4<f32> {
  let cols = P.cols;
  if (t >= P.T || c >= cols) { return vec4<f32>(0.0); }
  let b = P.x_off + t * cols + c;
  if (XV4) { return buf_xv[b / 4u]; }
  var v: vec4<f32>;
  for (var j = 0u; j < 4u; j++) { v[j] = select(0.0, buf_x[min(b + j, P.x_off + P.T * cols - 1u)], c + j < cols); }
  return v;
}

// Columns c..c+3 of row r of W, dequantized (zero past the row's end and past the rows).
fn w_cols(r: u32, c: u32) -> vec4<f32> {
  let cols = P.cols;
  if (r >= P.nrows || c >= cols) { return vec4<f32>(0.0); }
  let v = w_vec4(P.w, r, c);
  return select(vec4<f32>(0.0), v, vec4<u32>(c) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(cols));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * TN;
  let m0 = wid.y * TM;
  let tx = lid % 16u;  // rows tx * 4.. and 64 + tx * 4..
  let ty = lid / 16u;  // tokens ty * 4.. (and HALF_M + ty * 4.. with TM = 128)
  var acc: array<vec4<f32>, 2u * RM>;  // acc[2 i + h]: token i of the invocation, rows of half h
  // Staging: invocation lid loads 16 columns (half lid % 2 of the tile's 32) of one row of W and,
  // for lid / 2 < TM, of one token of x.
  let sr = lid / 2u;
  let sk = (lid % 2u) * 16u;
  for (var k0 = 0u; k0 < P.cols; k0 += TK) {
    for (var q = 0u; q < 4u; q++) {
      let k = sk + 4u * q;
      let wv = w_cols(n0 + sr, k0 + k);
      for (var j = 0u; j < 4u; j++) {
        let i = (k + j) * (TN / 4u) + sr / 4u;
        ws[i][sr % 4u] = wv[j];
      }
      if (sr < TM) {
        let xv = x_vec4(m0 + sr, k0 + k);
        for (var j = 0u; j < 4u; j++) {
          let i = (k + j) * (TM / 4u) + sr / 4u;
          xs[i][sr % 4u] = xv[j];
        }
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let wa = ws[k * (TN / 4u) + tx];
      let wb = ws[k * (TN / 4u) + 16u + tx];
      let xa = xs[k * (TM / 4u) + ty];
      for (var i = 0u; i < 4u; i++) {
        acc[2u * i] += xa[i] * wa;
        acc[2u * i + 1u] += xa[i] * wb;
      }
      if (RM == 8u) {
        let xb = xs[k * (TM / 4u) + HALF_M / 4u + ty];
        for (var i = 0u; i < 4u; i++) {
          acc[8u + 2u * i] += xb[i] * wa;
          acc[8u + 2u * i + 1u] += xb[i] * wb;
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < RM; i++) {
    let t = m0 + select(ty * 4u + i, HALF_M + ty * 4u + i - 4u, i >= 4u);
    if (t >= P.T) { continue; }
    for (var h = 0u; h < 2u; h++) {
      for (var j = 0u; j < 4u; j++) {
        let r = n0 + h * 64u + tx * 4u + j;
        if (r >= P.nrows) { continue; }
        var v = acc[2u * i + h][j];
        if (BIAS) { v += buf_bias[P.bias_off + P.row0 + r]; }
        let o = P.out_off + t * P.out_stride + P.row0 + r;
        if (ACC) { v = buf_out[o] + v; }
        buf_out[o] = v;
        if (RESID) {
          let ro = P.res_off + t * P.out_stride + P.row0 + r;
          buf_res[ro] = buf_res[ro] + v;
        }
      }
    }
  }
}
