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

// out[t, row0 + r] for 4 consecutive rows r0.. (bias, accumulation and the residual add applied).
fn store4(t: u32, r0: u32, v: vec4<f32>) {
  if (t >= P.T) { return; }
  for (var j = 0u; j < 4u; j++) {
    let r = r0 + j;
    if (r >= P.nrows) { return; }
    var o = v[j];
    if (BIAS) { o += buf_bias[P.bias_off + P.row0 + r]; }
    let at = P.out_off + t * P.out_stride + P.row0 + r;
    if (ACC) { o = buf_out[at] + o; }
    buf_out[at] = o;
    if (RESID) {
      let ro = P.res_off + t * P.out_stride + P.row0 + r;
      buf_res[ro] = buf_res[ro] + o;
    }
  }
}

// The accumulators are named variables, not an array: an array indexed in loops may live in
// local memory instead of registers (it did on NVIDIA's Vulkan driver: 4x slower).
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * TN;
  let m0 = wid.y * TM;
  let tx = lid % 16u;  // rows tx * 4.. (a*) and 64 + tx * 4.. (b*)
  let ty = lid / 16u;  // tokens ty * 4.. (0-3) and, with TM = 128, HALF_M + ty * 4.. (4-7)
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  var a4 = vec4<f32>(0.0); var a5 = vec4<f32>(0.0); var a6 = vec4<f32>(0.0); var a7 = vec4<f32>(0.0);
  var b0 = vec4<f32>(0.0); var b1 = vec4<f32>(0.0); var b2 = vec4<f32>(0.0); var b3 = vec4<f32>(0.0);
  var b4 = vec4<f32>(0.0); var b5 = vec4<f32>(0.0); var b6 = vec4<f32>(0.0); var b7 = vec4<f32>(0.0);
  // Staging: invocation lid loads 16 columns (half lid % 2 of the tile's 32) of one row of W and,
  // for lid / 2 < TM, of one token of x.
  let sr = lid / 2u;
  let sk = (lid % 2u) * 16u;
  for (var k0 = 0u; k0 < P.cols; k0 += TK) {
    for (var q = 0u; q < 4u; q++) {
      let k = sk + 4u * q;
      let wv = w_cols(n0 + sr, k0 + k);
      let wi = k * (TN / 4u) + sr / 4u;
      ws[wi][sr % 4u] = wv.x;
      ws[wi + TN / 4u][sr % 4u] = wv.y;
      ws[wi + 2u * (TN / 4u)][sr % 4u] = wv.z;
      ws[wi + 3u * (TN / 4u)][sr % 4u] = wv.w;
      if (sr < TM) {
        let xv = x_vec4(m0 + sr, k0 + k);
        let xi = k * (TM / 4u) + sr / 4u;
        xs[xi][sr % 4u] = xv.x;
        xs[xi + TM / 4u][sr % 4u] = xv.y;
        xs[xi + 2u * (TM / 4u)][sr % 4u] = xv.z;
        xs[xi + 3u * (TM / 4u)][sr % 4u] = xv.w;
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let wa = ws[k * (TN / 4u) + tx];
      let wb = ws[k * (TN / 4u) + 16u + tx];
      let xa = xs[k * (TM / 4u) + ty];
      a0 += xa.x * wa; a1 += xa.x * wb;
      a2 += xa.y * wa; a3 += xa.y * wb;
      a4 += xa.z * wa; a5 += xa.z * wb;
      a6 += xa.w * wa; a7 += xa.w * wb;
      if (RM == 8u) {
        let xb = xs[k * (TM / 4u) + HALF_M / 4u + ty];
        b0 += xb.x * wa; b1 += xb.x * wb;
        b2 += xb.y * wa; b3 += xb.y * wb;
        b4 += xb.z * wa; b5 += xb.z * wb;
        b6 += xb.w * wa; b7 += xb.w * wb;
      }
    }
    workgroupBarrier();
  }
  let t0 = m0 + ty * 4u;
  let ra = n0 + tx * 4u;
  let rb = n0 + 64u + tx * 4u;
  store4(t0, ra, a0); store4(t0, rb, a1);
  store4(t0 + 1u, ra, a2); store4(t0 + 1u, rb, a3);
  store4(t0 + 2u, ra, a4); store4(t0 + 2u, rb, a5);
  store4(t0 + 3u, ra, a6); store4(t0 + 3u, rb, a7);
  if (RM == 8u) {
    let t1 = m0 + HALF_M + ty * 4u;
    store4(t1, ra, b0); store4(t1, rb, b1);
    store4(t1 + 1u, ra, b2); store4(t1 + 1u, rb, b3);
    store4(t1 + 2u, ra, b4); store4(t1 + 2u, rb, b5);
    store4(t1 + 3u, ra, b6); store4(t1 + 3u, rb, b7);
  }
}
