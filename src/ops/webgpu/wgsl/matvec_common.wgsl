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
//          t_m: [T, R_m] in lt (the B products of a stage, folded into its base products).
//   LA     (with LB) the stage's A products t_j = A_j x (x normalized as the products' with
//          NORM; A_j's rows in la, LAF16: f16, else f32) are computed by the dispatch's first
//          P[52] workgroups of each token (a subgroup per row, or a workgroup on the
//          workgroup kernel) and published word by word to the t ring lta (armed with
//          LA_MARK beforehand). Each subgroup (workgroup) of the products reads t_m from there
//          once per block, up to 4 words an invocation, all at once, again while any is the
//          mark, and the rows' B terms take the words from the invocations that hold them
//          (R_m <= 4 x the subgroup size, and <= WG). Should the wait take too long
//          (workgroups that do not start in order), the invocations still waiting compute
//          their rows themselves in the same order of operations, so the values are the same
//          either way (LA_SPIN: reads before that).
// x: [T, cols]; out_m: [T, out_stride_m] (out_off and bias_off include the chunk's first row).
// P: 0 x_off, 1 T, 2 cols, 3 w_stride (units per row), 4 nw_off, 5 eps (f32), 6 virtual rows,
//    7 sw_off, 8 + 8 m: vbase, nrows, w_base, scale_off, min_off, out_off, out_stride, bias_off
//    (0xffffffff: no bias), 32 h_off, 33 res_off, 34 accumulate bits (bit m: matrix m's out =
//    out + the product, matmul_add), 36 + m: x_m's offset (MX), 40 + 4 m (LB): B_m's first unit
//    (0xffffffff: none), its units per row, t_m's offset, R_m; LA: 52 workgroups that compute
//    A rows, 53 A rows (the sum of R_j), 56 + 4 j: A_j's first unit, units per row, t_j's first
//    word in the ring, R_j; 68 + m: the j whose t matrix m's B product reads

struct Mat {
  vbase: u32,
  nrows: u32,
  wi: WInfo,
  out_off: u32,
  out_stride: u32,
  bias_off: u32,
}

fn mat(m: u32) -> Mat {
  let b = 8u + 8u * m;
  return Mat(pu(b), pu(b + 1u), WInfo(pu(3), pu(b + 3u), pu(b + 4u), pu(2), pu(b + 2u)), pu(b + 5u), pu(b + 6u),
             pu(b + 7u));
}

// The matrix a virtual row belongs to.
fn mat_of(v: u32) -> u32 {
  var m = 0u;
  if (!PAIR && NW > 1u && v >= pu(16)) { m = 1u; }
  if (!PAIR && NW > 2u && v >= pu(24)) { m = 2u; }
  return m;
}

// Where token t's x starts for matrix m.
fn x_base(m: u32, t: u32) -> u32 {
  if (MX) { return pu(36u + m) + t * pu(2); }
  return pu(0) + t * pu(2);
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

fn nw_chunk(e: u32, cols: u32) -> vec4<f32> { return buf_nwv[(pu(4) + min(e, cols - 4u)) / 4u]; }

struct Dots {
  a: vec4<f32>,  // rows r0.. of matrix A
  b: vec4<f32>,  // the same rows of matrix B (PAIR)
  ss: f32,       // sum of x^2 over the units visited (NORM)
}

// Partial dot products of rows r0..r0+NR-1 of matrix A (number m; and, with PAIR, of B) with x,
// over the units first, first + step, ...
fn block_dots(m: u32, A: Mat, B: Mat, r0: u32, xb: u32, first: u32, step: u32) -> Dots {
  var d: Dots;
  let cols = pu(2);
  for (var u = first; u < pu(3); u += step) {
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
      d.a[r] += w_unit_dot(A.wi, min(r0 + r, A.nrows - 1u), u, xv, sx);
      if (PAIR) { d.b[r] += w_unit_dot(B.wi, min(r0 + r, B.nrows - 1u), u, xv, sx); }
    }
  }
  return d;
}

// 1 / rms of token t's x from its sum of squares.
fn inv_rms(ss: f32) -> f32 { return 1.0 / sqrt(ss / f32(pu(2)) + pf(5)); }

// h[t, :] = nw * (x[t, :] * inv) (the rmsnorm op's output), 4-element chunks first, first +
// step, ... (NORM implies XV4).
fn write_normed(xb: u32, t: u32, inv: f32, first: u32, step: u32) {
  let cols = pu(2);
  let hb = pu(32) + t * cols;
  for (var c = first * 4u; c < cols; c += step * 4u) {
    let v = nw_chunk(c, cols) * (buf_xv[(xb + c) / 4u] * inv);
    buf_h[hb + c] = v.x;
    buf_h[hb + c + 1u] = v.y;
    buf_h[hb + c + 2u] = v.z;
    buf_h[hb + c + 3u] = v.w;
  }
}

fn with_bias(m: u32, A: Mat, r: u32, v: f32) -> f32 {
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
  if (((pu(34) >> m) & 1u) != 0u) { return load(m, i) + v; }
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

const LA_MARK = 0xffffffffu;  // a ring word not yet published (no arithmetic result has it)

var<private> la_sgs: u32;  // the subgroup size the A rows are computed with

fn la_param(j: u32, i: u32) -> u32 { return pu(56u + 4u * j + i); }

// A row k (of all the A_j, end to end) -> (j, row of A_j).
fn la_row_of(k: u32) -> vec2<u32> {
  var j = 0u;
  var r = k;
  while (j < 2u && r >= la_param(j, 3u)) {
    r -= la_param(j, 3u);
    j++;
  }
  return vec2<u32>(j, r);
}

// Lane `lane` of sgs's share of row r of A_j times token x (at xb): (dot, sum of x^2 with NORM).
// Explicit fma, so the reader's own computation of a row repeats it exactly.
fn la_partial(j: u32, r: u32, xb: u32, lane: u32, sgs: u32) -> vec2<f32> {
  let cols = pu(2);
  let stride = la_param(j, 1u);
  let wb = la_param(j, 0u) + r * stride;
  var s = 0.0;
  var ss = 0.0;
  for (var u = lane; u < stride; u += sgs) {
    let w = buf_la[wb + u];
    let n = select(1u, 2u, LAF16);
    for (var h = 0u; h < n; h++) {
      let e = u * 4u * n + 4u * h;
      var v = x_chunk(0u, xb, e, cols);
      if (NORM) {
        ss = fma(v.x, v.x, fma(v.y, v.y, fma(v.z, v.z, fma(v.w, v.w, ss))));
        v *= nw_chunk(e, cols);
      }
      var a: vec4<f32>;
      if (LAF16) {
        a = vec4<f32>(unpack2x16float(w[2u * h]), unpack2x16float(w[2u * h + 1u]));
      } else {
        a = bitcast<vec4<f32>>(w);
      }
      s = fma(a.x, v.x, fma(a.y, v.y, fma(a.z, v.z, fma(a.w, v.w, s))));
    }
  }
  return vec2<f32>(s, ss);
}

fn la_value(s: f32, ss: f32) -> f32 {
  if (NORM) { return s * inv_rms(ss); }
  return s;
}

// Publishes the value of row jr.y of A_jr.x for token t.
fn la_publish(jr: vec2<u32>, t: u32, s: f32, ss: f32) {
  let R = la_param(jr.x, 3u);
  atomicStore(&buf_lta[la_param(jr.x, 2u) + t * R + jr.y], bitcast<u32>(la_value(s, ss)));
}

// Row r of A_j for token t computed by one invocation, in the A workgroups' order.
fn la_serial(j: u32, r: u32, t: u32) -> f32 {
  let xb = x_base(0u, t);
  var s = 0.0;
  var ss = 0.0;
  for (var l = 0u; l < la_sgs; l++) {
    let p = la_partial(j, r, xb, l, la_sgs);
    s += p.x;
    ss += p.y;
  }
  return la_value(s, ss);
}

// Value i of one unit of a B row: 8 f16 (LBF16) or 4 f32 a unit.
fn lb_w(w: vec4<u32>, i: u32) -> f32 {
  if (LBF16) {
    let h = unpack2x16float(w[i / 2u]);
    return select(h.x, h.y, (i & 1u) == 1u);
  }
  return bitcast<f32>(w[i]);
}

// LA: word c of t_m for token t as a reader gets it, given the ring's word w (LA_MARK: not
// published after LA_SPIN reads, so computed here).
fn la_word_value(m: u32, c: u32, t: u32, w: u32) -> f32 {
  if (w == LA_MARK) { return la_serial(pu(68u + m), c, t); }
  return bitcast<f32>(w);
}

// LA: row r of B_m times t_m, word c of t_m given by la_word(c, k, tv, sgs) (each kernel's:
// from the lanes' tv by shuffle, or from workgroup memory); 0 where matrix m has no B.
fn la_b_dot(m: u32, r: u32, k: u32, tv: vec4<f32>, sgs: u32) -> f32 {
  let b = 40u + 4u * m;
  if (pu(b) == 0xffffffffu) { return 0.0; }
  let R = pu(b + 3u);
  let n = select(4u, 8u, LBF16);
  let stride = pu(b + 1u);
  let wb = pu(b) + r * stride;
  var s = 0.0;
  for (var u = 0u; u < stride; u++) {
    let wu = buf_lbw[wb + u];
    for (var i = 0u; i < n; i++) {
      let c = u * n + i;
      let v = la_word(c, k, tv, sgs);
      if (c < R) { s = fma(lb_w(wu, i), v, s); }
    }
  }
  return s;
}

// Row r of B_m times token t's t_m (LB), else 0.
fn lora_b(m: u32, r: u32, t: u32) -> f32 {
  if (!LB || LA) { return 0.0; }
  let b = 40u + 4u * m;
  if (pu(b) == 0xffffffffu) { return 0.0; }
  let stride = pu(b + 1u);
  let R = pu(b + 3u);
  let tb = pu(b + 2u) + t * R;
  let wb = pu(b) + r * stride;
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
// scaled by 1/rms with NORM); with LA, lx holds the rows' B terms.
fn finish(m: u32, A: Mat, B: Mat, r: u32, t: u32, a: f32, b: f32, lx: vec2<f32>) {
  let oa = A.out_off + t * A.out_stride + r;
  let g = accumulated(m, oa, with_bias(m, A, r, a) + select(lora_b(m, r, t), lx.x, LA));
  store(m, oa, g);
  if (RESID) { buf_res[pu(33) + t * A.out_stride + r] += g; }
  if (PAIR) {
    let ob = B.out_off + t * B.out_stride + r;
    let u = accumulated(1u, ob, with_bias(1u, B, r, b) + select(lora_b(1u, r, t), lx.y, LA));
    store(1u, ob, u);
    buf_sw[pu(7) + t * A.out_stride + r] = g / (1.0 + exp(-g)) * u;
  }
}
