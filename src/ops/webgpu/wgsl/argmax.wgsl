// Greedy pick on the GPU: out[0] = float(index of the largest of x[0..n)), the lowest index on
// ties (as the sampler's argmax). One workgroup; each invocation keeps 4 streams of loads in
// flight (through a vec4 view xv with XV4: x_off a multiple of 4).

struct Params {
  x_off: u32,
  n: u32,
  out_off: u32,
}

const NONE: u32 = 0xffffffffu;

struct Best {
  v: f32,
  i: u32,
}

// b, or element i with value v when that is larger (b holds a lower index).
fn better(b: Best, v: f32, i: u32) -> Best {
  if (b.i == NONE || v > b.v) { return Best(v, i); }
  return b;
}

// The larger of two, the lower index on equal values.
fn merge(a: Best, b: Best) -> Best {
  if (a.i == NONE) { return b; }
  if (b.i == NONE) { return a; }
  if (b.v > a.v || (b.v == a.v && b.i < a.i)) { return b; }
  return a;
}

@compute @workgroup_size(WG)
fn main(ln: Lane) {
  let n = P.n;
  var s: array<Best, 4>;
  for (var u = 0u; u < 4u; u++) { s[u] = Best(-3.4028234e38, NONE); }
  if (XV4) {
    // Element groups of 4: group g holds x[4g .. 4g + 3].
    let ng = n / 4u;
    for (var g0 = ln.lid; g0 < ng; g0 += 4u * WG) {
      for (var u = 0u; u < 4u; u++) {
        let g = g0 + u * WG;
        if (g < ng) {
          let v = buf_xv[P.x_off / 4u + g];
          s[u] = better(s[u], v.x, 4u * g);
          s[u] = better(s[u], v.y, 4u * g + 1u);
          s[u] = better(s[u], v.z, 4u * g + 2u);
          s[u] = better(s[u], v.w, 4u * g + 3u);
        }
      }
    }
    let i = 4u * ng + ln.lid;
    if (i < n) { s[0] = merge(s[0], Best(buf_x[P.x_off + i], i)); }
  } else {
    for (var i0 = ln.lid; i0 < n; i0 += 4u * WG) {
      for (var u = 0u; u < 4u; u++) {
        let i = i0 + u * WG;
        if (i < n) { s[u] = better(s[u], buf_x[P.x_off + i], i); }
      }
    }
  }
  let b = merge(merge(s[0], s[1]), merge(s[2], s[3]));
  let idx = wg_argmax(b.v, b.i, ln);
  if (ln.lid == 0u) { buf_out[P.out_off] = f32(idx); }
}
