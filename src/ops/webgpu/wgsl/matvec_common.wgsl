// Shared by matmul_vec.wgsl and matmul_vec_subgroup.wgsl: matrix-vector products for decode (a
// few tokens) over a group of NW <= 3 matrices that read the same x and live in the same weight
// buffer (q, k and v; gate and up), in one dispatch. Their rows are laid end to end in blocks
// of 4 ("virtual rows": matrix m starts at vbase_m, a multiple of 4); a kernel instance takes
// NR <= 4 of them at a time. With PAIR (NW = 2, gate and up of SwiGLU), a block holds the same
// rows of both matrices instead, and sw = silu(gate) * up is written too.
// Fusions around the product:
//   NORM   x is the raw hidden state: the product is taken of rmsnorm(x) * nw, computed on the
//          fly (sum of squares gathered while x is read, 1/rms applied to the dot products);
//          the normed x is written to h too, as the rmsnorm op would, each subgroup (or
//          workgroup) taking a share. Needs XV4.
//   RESID  res += out after the store (the residual add that follows o_proj and down_proj).
//   XV4    x (and nw) are read through vec4 views (x_off and cols multiples of 4).
//   MX     each matrix m reads its own x, x_m (the LoRA B products of one stage); no NORM, PAIR
//          or XV4 then.
//   LB     matrix m's rows get a LoRA B product added before any swiglu: out_m = [out_m +]
//          W_m x + bias_m + B_m t_m, with B_m's rows in lbw (LBF16: f16 pairs, else f32) and
//          t_m: [T, rank_m] in lt (the adapter of each product, folded into its store).
// x: [T, cols]; out_m: [T, out_stride_m] (out_off and bias_off include the chunk's first row).

// One matrix of the group (MatvecMat in kernel_params.h): its virtual rows start at vbase.
struct MatvecMat {
  vbase: u32,
  nrows: u32,
  w: WeightRef,
  out_off: u32,
  out_stride: u32,
  bias_off: u32,   // 0xffffffff: no bias
  x_off: u32,      // MX: this matrix's own x
  accumulate: u32, // 1: out = out + the product (matmul_add)
}

// A matrix's adapter (LB; MatvecLora): B's rows at b_base (0xffffffff: none), t at t_off.
struct MatvecLora {
  b_base: u32,
  b_stride: u32,
  t_off: u32,
  rank: u32,
}

struct Params {
  x_off: u32,
  T: u32,
  cols: u32,
  w_stride: u32,   // units per row, the same for every matrix of the group
  nw_off: u32,     // NORM: the norm's weights
  eps: f32,
  vrows: u32,      // virtual rows in all
  sw_off: u32,     // PAIR: silu(gate) * up
  h_off: u32,      // NORM: where the normed x goes
  res_off: u32,    // RESID: the residual stream
  mats: array<MatvecMat, 3>,
  lora: array<MatvecLora, 3>,
}

fn mat(m: u32) -> MatvecMat { return P.mats[m]; }

// The matrix a virtual row belongs to.
fn mat_of(v: u32) -> u32 {
  var m = 0u;
  if (!PAIR && NW > 1u && v >= P.mats[1].vbase) { m = 1u; }
  if (!PAIR && NW > 2u && v >= P.mats[2].vbase) { m = 2u; }
  return m;
}

// Where token t's x starts for matrix m.
fn x_base(m: u32, t: u32) -> u32 {
  if (MX) { return P.mats[m].x_off + t * P.cols; }
  return P.x_off + t * P.cols;
}

fn xl(m: u32, i: u32, xb: u32, cols: u32) -> f32 {
  let j = xb + min(i, cols - 1u);
  var v: f32;
  if (!MX || m == 0u) {
    v = buf_x0[j];
  } else if (m == 1u) {
    v = buf_x1[j];
  } else {
    v = buf_x2[j];
  }
  return select(0.0, v, i < cols);
}

// x[xb + e .. xb + e + 3] (matrix m's x with MX), zero past the row's end.
fn x_chunk(m: u32, xb: u32, e: u32, cols: u32) -> vec4<f32> {
  if (XV4) { return select(vec4<f32>(0.0), buf_xv[(xb + min(e, cols - 4u)) / 4u], e < cols); }
  return vec4<f32>(xl(m, e, xb, cols), xl(m, e + 1u, xb, cols), xl(m, e + 2u, xb, cols), xl(m, e + 3u, xb, cols));
}

fn nw_chunk(e: u32, cols: u32) -> vec4<f32> { return buf_nwv[(P.nw_off + min(e, cols - 4u)) / 4u]; }

struct Dots {
  a: vec4<f32>,  // rows r0.. of matrix A
  b: vec4<f32>,  // the same rows of matrix B (PAIR)
  ss: f32,       // sum of x^2 over the units visited (NORM)
}

// Partial dot products of rows r0..r0+NR-1 of matrix A (number m; and, with PAIR, of B) with x,
// over the units first, first + step, ...
fn block_dots(m: u32, A: MatvecMat, B: MatvecMat, r0: u32, xb: u32, first: u32, step: u32) -> Dots {
  var d: Dots;
  let cols = P.cols;
  for (var u = first; u < P.w_stride; u += step) {
    var xv: array<vec4<f32>, XN>;
    var s4 = vec4<f32>(0.0);
    for (var j = 0u; j < XN; j++) {
      let e = unit_elem(u, j);
      var v = x_chunk(m, xb, e, cols);
      if (NORM) {
        d.ss += dot(v, v);
        v *= nw_chunk(e, cols);
      }
      xv[j] = v;
      s4 += v;
    }
    let sx = dot(s4, vec4<f32>(1.0));
    for (var r = 0u; r < NR; r++) {
      // Rows past a matrix's end repeat its last row; they are never stored.
      d.a[r] += w_unit_dot(A.w, min(r0 + r, A.nrows - 1u), u, xv, sx);
      if (PAIR) { d.b[r] += w_unit_dot(B.w, min(r0 + r, B.nrows - 1u), u, xv, sx); }
    }
  }
  return d;
}

// 1 / rms of token t's x from its sum of squares.
fn inv_rms(ss: f32) -> f32 { return 1.0 / sqrt(ss / f32(P.cols) + P.eps); }

// h[t, :] = nw * (x[t, :] * inv) (the rmsnorm op's output), 4-element chunks first, first +
// step, ... (NORM implies XV4).
fn write_normed(xb: u32, t: u32, inv: f32, first: u32, step: u32) {
  let cols = P.cols;
  let hb = P.h_off + t * cols;
  for (var c = first * 4u; c < cols; c += step * 4u) {
    let v = nw_chunk(c, cols) * (buf_xv[(xb + c) / 4u] * inv);
    buf_h[hb + c] = v.x;
    buf_h[hb + c + 1u] = v.y;
    buf_h[hb + c + 2u] = v.z;
    buf_h[hb + c + 3u] = v.w;
  }
}

fn with_bias(m: u32, A: MatvecMat, r: u32, v: f32) -> f32 {
  if (A.bias_off == 0xffffffffu) { return v; }
  switch (m) {
    case 0u: { return v + buf_bias0[A.bias_off + r]; }
    case 1u: { return v + buf_bias1[A.bias_off + r]; }
    default: { return v + buf_bias2[A.bias_off + r]; }
  }
}

fn load(m: u32, i: u32) -> f32 {
  switch (m) {
    case 0u: { return buf_out0[i]; }
    case 1u: { return buf_out1[i]; }
    default: { return buf_out2[i]; }
  }
}

// v, or out_m[i] + v when matrix m accumulates.
fn accumulated(m: u32, i: u32, v: f32) -> f32 {
  if (P.mats[m].accumulate != 0u) { return load(m, i) + v; }
  return v;
}

fn store(m: u32, i: u32, v: f32) {
  switch (m) {
    case 0u: { buf_out0[i] = v; }
    case 1u: { buf_out1[i] = v; }
    default: { buf_out2[i] = v; }
  }
}

// Input c of t_m for token row tb (zero past R).
fn lt_at(tb: u32, c: u32, R: u32) -> f32 { return select(0.0, buf_lt[tb + min(c, R - 1u)], c < R); }

// Row r of B_m times token t's t_m (LB), else 0.
fn lora_b(m: u32, r: u32, t: u32) -> f32 {
  if (!LB) { return 0.0; }
  let L = P.lora[m];
  if (L.b_base == 0xffffffffu) { return 0.0; }
  let stride = L.b_stride;
  let R = L.rank;
  let tb = L.t_off + t * R;
  let wb = L.b_base + r * stride;
  var s = 0.0;
  for (var u = 0u; u < stride; u++) {
    let w = buf_lbw[wb + u];
    if (LBF16) {
      for (var q = 0u; q < 4u; q++) {
        let h = unpack2x16float(w[q]);
        s += h.x * lt_at(tb, 8u * u + 2u * q, R) + h.y * lt_at(tb, 8u * u + 2u * q + 1u, R);
      }
    } else {
      let f = bitcast<vec4<f32>>(w);
      for (var q = 0u; q < 4u; q++) { s += f[q] * lt_at(tb, 4u * u + q, R); }
    }
  }
  return s;
}

// Row r of matrix m (and of matrix 1 with PAIR) for token t, from the reduced sums (already
// scaled by 1/rms with NORM).
fn finish(m: u32, A: MatvecMat, B: MatvecMat, r: u32, t: u32, a: f32, b: f32) {
  let oa = A.out_off + t * A.out_stride + r;
  let g = accumulated(m, oa, with_bias(m, A, r, a) + lora_b(m, r, t));
  store(m, oa, g);
  if (RESID) { buf_res[P.res_off + t * A.out_stride + r] += g; }
  if (PAIR) {
    let ob = B.out_off + t * B.out_stride + r;
    let u = accumulated(1u, ob, with_bias(1u, B, r, b) + lora_b(1u, r, t));
    store(1u, ob, u);
    buf_sw[P.sw_off + t * A.out_stride + r] = g / (1.0 + exp(-g)) * u;
  }
}
