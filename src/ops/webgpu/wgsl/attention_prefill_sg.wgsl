// Prefill attention, subgroup tier: flash attention over key tiles with the queries of every
// head that shares a KV head in one workgroup, so each key and value tile is staged once for all
// of them. A workgroup holds ROWS query rows, row r = (position t0 + r / GB, head h0 + r % GB);
// four adjacent invocations own a row, each a quarter of its dims: its slice of q and of the
// output stay in registers, the four partial scores are summed by subgroup shuffles, and each
// row's running max / sum (online softmax) is kept by all four. Workgroup memory: one key and
// one value tile, 2 * BK * D floats, whatever the context length. Causal, windowed when
// window > 0 (key j is visible to position p when p - window < j <= p).
// q, out: [T, H, D]; k, v: [ctx, KV, D]. Grid: (ceil(T / BT), KV * n_hb).
// Consts: WG (4 * ROWS), ROWS, GB (heads per block), BT (positions per block, BT * GB <= ROWS),
// BK (keys per tile), D (head dim, a multiple of 16), V4 (k_off, v_off multiples of 4: the
// caches are read through the vec4 views k4 / v4).

struct Params {
  q_off: u32,
  k_off: u32,
  v_off: u32,
  out_off: u32,
  T: u32,
  pos0: u32,
  H: u32,
  KV: u32,
  D: u32,
  window: u32,
  scale: f32,
  n_hb: u32,  // head blocks per KV head
}

const MASKED: f32 = -3.0e38;
const D4: u32 = D / 4u;   // vec4 chunks per row
const S4: u32 = D / 16u;  // vec4 chunks per invocation's slice

var<workgroup> kt: array<vec4<f32>, BK * D4>;
var<workgroup> vt: array<vec4<f32>, BK * D4>;

// Chunk c (dims 4c .. 4c + 3) of row j of the key (src 0) or value (src 1) cache.
fn cache_at(src: u32, j: u32, kvh: u32, c: u32) -> vec4<f32> {
  let row = (j * P.KV + kvh) * D;
  if (V4) {
    if (src == 0u) { return buf_k4[(P.k_off + row) / 4u + c]; }
    return buf_v4[(P.v_off + row) / 4u + c];
  }
  if (src == 0u) {
    let b = P.k_off + row + 4u * c;
    return vec4<f32>(buf_k[b], buf_k[b + 1u], buf_k[b + 2u], buf_k[b + 3u]);
  }
  let b = P.v_off + row + 4u * c;
  return vec4<f32>(buf_v[b], buf_v[b + 1u], buf_v[b + 2u], buf_v[b + 3u]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = P.T;
  let pos0 = P.pos0;
  let H = P.H;
  let win = P.window;
  let G = H / P.KV;
  let kvh = wid.y / P.n_hb;
  let h0 = kvh * G + (wid.y % P.n_hb) * GB;
  let nh = min(GB, kvh * G + G - h0);
  let t0 = wid.x * BT;
  let r = lid / 4u;
  let sl = lid % 4u;
  let t = t0 + r / GB;
  let hh = r % GB;
  let live = r < BT * GB && t < T && hh < nh;
  let pos = pos0 + t;
  let lo_row = first_key(pos, win);

  var q: array<vec4<f32>, S4>;
  var o: array<vec4<f32>, S4>;
  let qb = P.q_off + (min(t, T - 1u) * H + h0 + min(hh, nh - 1u)) * D + sl * (D / 4u);
  for (var i = 0u; i < S4; i++) {
    let b = qb + 4u * i;
    q[i] = vec4<f32>(buf_q[b], buf_q[b + 1u], buf_q[b + 2u], buf_q[b + 3u]);
    o[i] = vec4<f32>(0.0);
  }
  var m = MASKED;
  var l = 0.0;
  let lo = first_key(pos0 + t0, win);
  let hi = pos0 + min(t0 + BT, T) - 1u;
  for (var kb = lo; kb <= hi; kb += BK) {
    workgroupBarrier();  // the last tile is no longer read
    for (var i = lid; i < BK * D4; i += WG) {
      let j = min(kb + i / D4, hi);  // past hi: masked for every row
      kt[i] = cache_at(0u, j, kvh, i % D4);
      vt[i] = cache_at(1u, j, kvh, i % D4);
    }
    workgroupBarrier();
    var s: array<f32, BK>;
    var mx = m;
    for (var jj = 0u; jj < BK; jj++) {
      var acc = 0.0;
      for (var i = 0u; i < S4; i++) { acc += dot(q[i], kt[jj * D4 + sl * S4 + i]); }
      acc += subgroupShuffleXor(acc, 1u);
      acc += subgroupShuffleXor(acc, 2u);
      let j = kb + jj;
      s[jj] = select(MASKED, acc * P.scale, live && j <= pos && j >= lo_row);
      mx = max(mx, s[jj]);
    }
    let a = exp(m - mx);
    l *= a;
    for (var i = 0u; i < S4; i++) { o[i] *= a; }
    for (var jj = 0u; jj < BK; jj++) {
      var p = 0.0;
      if (s[jj] > MASKED) { p = exp(s[jj] - mx); }
      l += p;
      for (var i = 0u; i < S4; i++) { o[i] += p * vt[jj * D4 + sl * S4 + i]; }
    }
    m = mx;
  }
  if (live) {
    let ob = P.out_off + (t * H + h0 + hh) * D + sl * (D / 4u);
    for (var i = 0u; i < S4; i++) {
      let v = o[i] / l;
      buf_out[ob + 4u * i] = v.x;
      buf_out[ob + 4u * i + 1u] = v.y;
      buf_out[ob + 4u * i + 2u] = v.z;
      buf_out[ob + 4u * i + 3u] = v.w;
    }
  }
}
