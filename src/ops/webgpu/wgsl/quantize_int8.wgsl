// Int8 per-row quantization on the device, bit for bit the CPU's (quantize_matrix and
// quantize_int8_value in src/ops/quantize.cpp): one workgroup per row of checkpoint data in src
// (SRC_BF16 / SRC_F16: two 16-bit values a word): scale = max |w| / 127 rounded once (the
// largest magnitude is order-free; the division is by an integer, done exactly), then each q by
// its thresholds s (2k + 1) / 2, packed 4 a word as weights_int8.wgsl reads them, the scale after
// the rows. Consts: WG, SRC_BF16, SRC_F16.

struct Params {
  src_elem0: u32,  // element of src where row 0 starts
  rows: u32,
  cols: u32,
  dst_base: u32,   // u32 word of dst where row 0's packed words start
  row_words: u32,  // packed words per row
  scale_off: u32,  // u32 word of dst where the rows' scales start
}

const TINY: u32 = 0x0d800000u;  // 2^-100: rows whose largest magnitude is below are 0

// An IEEE half's bits as f32, exactly (quantize_int4.wgsl's).
fn half_to_f32(h: u32) -> f32 {
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  var mag: f32;
  if (e == 0u) {
    mag = f32(m) * bitcast<f32>(0x33800000u);
  } else if (e == 31u) {
    mag = bitcast<f32>(0x7f800000u | (m << 13u));
  } else {
    mag = bitcast<f32>(((e + 112u) << 23u) | (m << 13u));
  }
  return select(mag, -mag, (h & 0x8000u) != 0u);
}

fn src_at(e: u32) -> f32 {
  let i = P.src_elem0 + e;
  let word = buf_src[i / 2u];
  let half = (word >> (16u * (i % 2u))) & 0xffffu;
  if (SRC_BF16) { return bitcast<f32>(half << 16u); }
  return half_to_f32(half);
}

// a / d rounded to nearest even, d an integer in [1, 2^22), a normal or 0 (quantize_int4.wgsl's).
fn div_by_int(a: f32, d: u32) -> f32 {
  if (a == 0.0) { return 0.0; }
  let bits = bitcast<u32>(a);
  let m = (bits & 0x7fffffu) | 0x800000u;
  var e = i32((bits >> 23u) & 0xffu) - 150;
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
  let rest = q & 3u;
  q = q >> 2u;
  e += 2;
  if (rest > 2u || (rest == 2u && (r != 0u || (q & 1u) == 1u))) {
    q += 1u;
    if (q == (1u << 24u)) {
      q = q >> 1u;
      e += 1;
    }
  }
  let biased = e + 23 + 127;
  if (biased <= 0) { return 0.0; }
  return bitcast<f32>((bits & 0x80000000u) | (u32(biased) << 23u) | (q & 0x7fffffu));
}

fn q8(w: f32, s: f32, inv: f32) -> i32 {
  let a = abs(w);
  var q = i32(min(127.0, a * inv + 0.5));  // a guess; the thresholds decide
  for (var k = 0; k < 128 && q < 127 && a >= s * f32(2 * q + 1) * 0.5; k++) { q += 1; }
  for (var k = 0; k < 128 && q > 0 && a < s * f32(2 * q - 1) * 0.5; k++) { q -= 1; }
  return select(q, -q, w < 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ln: Lane) {
  let row = wg_linear(wid, nwg);
  if (row >= P.rows) { return; }
  let e0 = row * P.cols;
  var amax = 0.0;
  for (var c = ln.lid; c < P.cols; c += WG) { amax = max(amax, abs(src_at(e0 + c))); }
  amax = wg_max(amax, ln);
  var s = 0.0;
  if (amax >= bitcast<f32>(TINY)) { s = div_by_int(amax, 127u); }
  let inv = select(0.0, 1.0 / s, s > 0.0);
  for (var k = ln.lid; k < P.row_words; k += WG) {
    var word = 0u;
    for (var j = 0u; j < 4u; j++) {
      let c = 4u * k + j;
      if (c < P.cols && s > 0.0) { word |= (u32(q8(src_at(e0 + c), s, inv)) & 0xffu) << (8u * j); }
    }
    buf_dst[P.dst_base + row * P.row_words + k] = word;
  }
  if (ln.lid == 0u) { buf_dst[P.scale_off + row] = bitcast<u32>(s); }
}
