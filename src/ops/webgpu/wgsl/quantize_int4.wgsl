// Int4 g128 quantization on the device, bit for bit the CPU's (src/ops/quantize_int4.cpp states
// the algorithm and why each step rounds the same on both): one invocation per (row, group) of
// checkpoint data in src (SRC_BF16 / SRC_F16: two 16-bit values a word), writing the group's 16
// packed words into the weight buffer dst and its (scale, minimum) pair after the rows.
// Consts: WG, SRC_BF16, SRC_F16, SEARCH.

struct Params {
  src_elem0: u32,  // element of src where row 0 starts
  rows: u32,
  cols: u32,
  groups: u32,     // per row
  dst_base: u32,   // u32 word of dst where row 0's packed words start
  row_words: u32,  // packed words per row
  sm_off: u32,     // u32 word of dst where row 0's (scale, minimum) pairs start
}

const TINY: u32 = 0x2f800000u;       // 2^-32: smaller magnitudes count as 0
const STEP: u32 = 0x3ca3d70au;       // 0.02f
const FIFTEENTH: u32 = 0x3d888889u;  // 1.0f / 15.0f
const LLOYD: u32 = 0x3f7ffff0u;      // a Lloyd step must bring the error below best * this
const KEEP19: u32 = 0xffffffe0u;     // keeps 19 significant bits

// +infinity (a constant expression that evaluates to it does not compile, so it is built at run time).
fn inf() -> f32 { return bitcast<f32>(0x7f800000u | (P.rows & 0u)); }

fn keep19(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) & KEEP19); }
fn keep12(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) & 0xfffff000u); }
// Results below 2^-126 as 0, as the CPU flushes them.
fn flush(x: f32) -> f32 { return select(x, 0.0, abs(x) < bitcast<f32>(0x00800000u)); }

// a b from the exact products of 12-bit halves: (ah bh + ah bl) + (al bh + al bl).
fn mul_split(a: f32, b: f32) -> f32 {
  let ah = keep12(a);
  let al = a - ah;
  let bh = keep12(b);
  let bl = b - bh;
  return flush(flush(ah * bh + ah * bl) + flush(al * bh + al * bl));
}

// n a - m b for small integers n, m: (n ah - m bh) + (n al - m bl), exact products.
fn int_combo(n: f32, a: f32, m: f32, b: f32) -> f32 {
  let ah = keep12(a);
  let al = a - ah;
  let bh = keep12(b);
  let bl = b - bh;
  return flush(flush(n * ah - m * bh) + flush(n * al - m * bl));
}

// An IEEE half's bits as f32, exactly (subnormal halves included: they are normal floats).
fn half_to_f32(h: u32) -> f32 {
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  var mag: f32;
  if (e == 0u) {
    mag = f32(m) * bitcast<f32>(0x33800000u);  // m 2^-24, exact
  } else if (e == 31u) {
    mag = bitcast<f32>(0x7f800000u | (m << 13u));
  } else {
    mag = bitcast<f32>(((e + 112u) << 23u) | (m << 13u));
  }
  return select(mag, -mag, (h & 0x8000u) != 0u);
}

// Element e (row-major over the whole matrix) of src, as the CPU converts it, tiny values as 0.
fn src_at(e: u32) -> f32 {
  let i = P.src_elem0 + e;
  let word = buf_src[i / 2u];
  let half = (word >> (16u * (i % 2u))) & 0xffffu;
  var v: f32;
  if (SRC_BF16) {
    v = bitcast<f32>(half << 16u);
  } else {
    v = half_to_f32(half);
  }
  return select(v, 0.0, abs(v) < bitcast<f32>(TINY));
}

// a / d rounded to nearest even, d an integer in [1, 2^22), a normal or 0: integer long division.
fn div_by_int(a: f32, d: u32) -> f32 {
  if (a == 0.0) { return 0.0; }
  let bits = bitcast<u32>(a);
  let m = (bits & 0x7fffffu) | 0x800000u;
  var e = i32((bits >> 23u) & 0xffu) - 150;  // a = m 2^e
  var q = m / d;
  var r = m % d;
  while (q < (1u << 25u)) {
    r = r << 1u;
    q = q << 1u;
    if (r >= d) {
      r -= d;
      q |= 1u;
    }
    e -= 1;
  }
  // q has 26 significant bits (or 25): round away the extra ones, half to even.
  var drop = 1u;
  if (q >= (1u << 25u)) { drop = 2u; }
  let rest = q & ((1u << drop) - 1u);
  let halfway = 1u << (drop - 1u);
  q = q >> drop;
  e += i32(drop);
  if (rest > halfway || (rest == halfway && (r != 0u || (q & 1u) == 1u))) {
    q += 1u;
    if (q == (1u << 24u)) {
      q = q >> 1u;
      e += 1;
    }
  }
  let biased = e + 23 + 127;  // q in [2^23, 2^24): a = (q / 2^23) 2^(e + 23)
  if (biased <= 0) { return 0.0; }  // below 2^-126: flushed, as the CPU's
  return bitcast<f32>((bits & 0x80000000u) | (u32(biased) << 23u) | (q & 0x7fffffu));
}

struct Fit {
  err: f32,
  scale: f32,
  minv: f32,
}

fn thr(lo: f32, s: f32, k: u32) -> f32 { return lo + s * f32(2u * k - 1u) * 0.5; }

fn nibble(w: f32, lo: f32, s: f32) -> u32 {
  var v = select(0u, 8u, w >= thr(lo, s, 8u));
  v += select(0u, 4u, w >= thr(lo, s, v + 4u));
  v += select(0u, 2u, w >= thr(lo, s, v + 2u));
  v += select(0u, 1u, w >= thr(lo, s, v + 1u));
  return v;
}

// The CPU's fit_nibbles: nibbles by thresholds lo + s (k - 1/2), their least-squares fit.
fn fit(e0: u32, n: u32, lo: f32, s: f32, sw: f32, sww: f32) -> Fit {
  var la = vec4<f32>(0.0);
  var lb = vec4<f32>(0.0);
  var sq = 0u;
  var sqq = 0u;
  for (var i = 0u; i < n; i += 8u) {
    var pa = vec4<f32>(0.0);
    var pb = vec4<f32>(0.0);
    for (var j = 0u; j < 8u; j++) {
      if (i + j < n) {
        let w = src_at(e0 + i + j);
        let v = nibble(w, lo, s);
        sq += v;
        sqq += v * v;
        if (j < 4u) { pa[j] = f32(v) * w; } else { pb[j - 4u] = f32(v) * w; }
      }
    }
    la += pa;
    lb += pb;
  }
  let sqw = flush(((la.x + la.y) + (la.z + la.w)) + ((lb.x + lb.y) + (lb.z + lb.w)));
  let det = i32(n * sqq) - i32(sq * sq);
  if (det <= 0) { return Fit(inf(), s, lo); }
  let scale = div_by_int(int_combo(f32(n), sqw, f32(sq), sw), u32(det));
  let minv = div_by_int(int_combo(1.0, sw, f32(sq), scale), n);
  let err = flush(flush(sww - mul_split(scale, sqw)) - mul_split(minv, sw));
  return Fit(err, scale, minv);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let gid = wg_linear(wid, nwg) * WG + lid;
  if (gid >= P.rows * P.groups) { return; }
  let row = gid / P.groups;
  let g = gid % P.groups;
  let c0 = g * 128u;
  let n = min(128u, P.cols - c0);
  let e0 = row * P.cols + c0;
  // The group's range and sums (8 interleaved lanes, combined pairwise).
  var lo = inf();
  var hi = -lo;
  var la = vec4<f32>(0.0);
  var lb = vec4<f32>(0.0);
  var qa = vec4<f32>(0.0);
  var qb = vec4<f32>(0.0);
  for (var i = 0u; i < n; i += 8u) {
    var pa = vec4<f32>(0.0);
    var pb = vec4<f32>(0.0);
    var sa = vec4<f32>(0.0);
    var sb = vec4<f32>(0.0);
    for (var j = 0u; j < 8u; j++) {
      if (i + j < n) {
        let w = src_at(e0 + i + j);
        lo = min(lo, w);
        hi = max(hi, w);
        if (j < 4u) {
          pa[j] = w;
          sa[j] = w * w;
        } else {
          pb[j - 4u] = w;
          sb[j - 4u] = w * w;
        }
      }
    }
    la += pa;
    lb += pb;
    qa += sa;
    qb += sb;
  }
  let sw = flush(((la.x + la.y) + (la.z + la.w)) + ((lb.x + lb.y) + (lb.z + lb.w)));
  let sww = flush(((qa.x + qa.y) + (qa.z + qa.w)) + ((qb.x + qb.y) + (qb.z + qb.w)));
  let span = hi - lo;
  let tiny = bitcast<f32>(TINY);
  var best = Fit(0.0, 0.0, lo);
  var best_lo = lo;
  var best_s = 0.0;
  if (span >= tiny) {
    best_s = keep19(span * bitcast<f32>(FIFTEENTH));
    best = fit(e0, n, lo, best_s, sw, sww);
    let step = keep19(span * bitcast<f32>(STEP));
    for (var a = 0u; a <= 15u && SEARCH; a++) {
      for (var b = 0u; b <= 15u; b++) {
        if ((a == 0u && b == 0u) || ((a + b) % 3u != 0u && a != 0u && b != 0u)) { continue; }
        let clo = lo + step * f32(a);
        let chi = hi - step * f32(b);
        if (!(chi > clo)) { continue; }
        let s = keep19((chi - clo) * bitcast<f32>(FIFTEENTH));
        if (!(s >= tiny)) { continue; }
        let f = fit(e0, n, clo, s, sw, sww);
        if (f.err < best.err) {
          best = f;
          best_lo = clo;
          best_s = s;
        }
      }
    }
    for (var iter = 0u; iter < 8u; iter++) {
      let s = keep19(best.scale);
      if (!(s >= tiny)) { break; }
      let f = fit(e0, n, best.minv, s, sw, sww);
      if (!(f.err < best.err * bitcast<f32>(LLOYD))) { break; }
      best_lo = best.minv;
      best_s = s;
      best = f;
    }
  }
  // The winning candidate's nibbles (0 for a constant group), packed as the CPU packs them.
  let wb = P.dst_base + row * P.row_words + g * 16u;
  for (var k = 0u; k < 16u; k++) {
    var word = 0u;
    for (var j = 0u; j < 8u; j++) {
      let i = k + 16u * j;
      if (i < n && best_s > 0.0) { word |= nibble(src_at(e0 + i), best_lo, best_s) << (4u * j); }
    }
    buf_dst[wb + k] = word;
  }
  let so = P.sm_off + 2u * (row * P.groups + g);
  buf_dst[so] = bitcast<u32>(best.scale);
  buf_dst[so + 1u] = bitcast<u32>(best.minv);
}
