// cos and sin of a RoPE angle for rope.wgsl and the decode attention that ropes as it loads:
// a Cody-Waite reduction by pi/2 (4 parts, exact products for |angle| < ~1e5) and minimax
// polynomials, not the GPU's cos/sin, whose accuracy is unspecified outside [-pi, pi].

fn cos_sin(a: f32) -> vec2<f32> {
  let j = round(a * 0.63661975);
  var r = a - j * 1.5703125;
  r = r - j * 4.84466552734375e-4;
  r = r - j * -6.407499313354492e-7;
  r = r - j * 9.92093629470503e-10;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  switch (i32(j) & 3) {
    case 0: { return vec2<f32>(c, s); }
    case 1: { return vec2<f32>(-s, c); }
    case 2: { return vec2<f32>(-c, -s); }
    default: { return vec2<f32>(s, -c); }
  }
}

// Element d of a rotate-half roped row: pairs (i, i + half) for i < half, dims past 2 half as
// they are. a = x[d mod half] and b = x[d mod half + half] when d < 2 half; cs = (cos, sin) of the
// pair's angle times the attention scaling. The same products as rope.wgsl.
fn rope_elem(d: u32, half: u32, a: f32, b: f32, x: f32, cs: vec2<f32>) -> f32 {
  if (d < half) { return a * cs.x - b * cs.y; }
  if (d < 2u * half) { return b * cs.x + a * cs.y; }
  return x;
}
