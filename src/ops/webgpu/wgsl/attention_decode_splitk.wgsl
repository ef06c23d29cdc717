// Decode attention, pass 1 of 2 (flash-decoding). The keys visible to the queries are split
// into chunks of C keys; one workgroup per (chunk, block of HB query heads that share one KV
// head, query) scores its chunk against those heads (causal, and windowed when window > 0: key
// j is visible to position p when p - window < j <= p) and writes, per head, the chunk's max
// m, l = sum exp(s - m) and acc[d] = sum exp(s - m) v[j, d] to part; attention_combine.wgsl
// merges the chunks. Scores by (key, part of the dims) invocations, each key vector loaded
// once per workgroup for all its heads; the weighted values by (head, 4 dims) invocations, each
// over all keys of the chunk, so that no sum crosses invocations: 4 barriers in all, and value
// loads in flight 8 at a time rather than one tree-reduction step after another.
// q: [T, H, D]; k, v: [ctx, KV, D]; part: [T, H, n_split, 2 + D].
// Grid: (n_split, KV * n_hb, T), n_hb = head blocks per KV head.
// Consts: WG, C (keys per chunk, dividing WG, a multiple of 8), HB (heads per block, at most
// 8), D (head dim, at most 4 WG), V4 (D % 4 == 0 and k_off, v_off multiples of 4: k and v are
// read through vec4 views k4 / v4), ROPE.
// With ROPE (and V4) the attention block's rope and KV-cache stores happen here: q and the T <= 4
// new keys kn: [T, KV, D] are roped as they are loaded (rope.wgsl's arithmetic; q and kn are
// left as they were), the new keys and values vn: [T, KV, D] are read from kn / vn rather than
// the caches, and the workgroups of query 0 and head block 0 write them to rows pos0.. of the
// caches.

struct Params {
  q_off: u32,
  k_off: u32,
  v_off: u32,
  part_off: u32,
  T: u32,
  pos0: u32,
  H: u32,
  KV: u32,
  n_hb: u32,
  window: u32,
  scale: f32,
  n_split: u32,
  key0: u32,     // first key of chunk 0
  freq_off: u32, // ROPE: the RoPE table
  half: u32,
  scaling: f32,
  kn_off: u32,   // ROPE: the new keys and values
  vn_off: u32,
}

const MASKED: f32 = -3.0e38;
const D4: u32 = (D + 3u) / 4u;
const HB4: u32 = (HB + 3u) / 4u;
const PARTS: u32 = WG / C;  // invocations per key for the scores

var<workgroup> qs: array<vec4<f32>, HB * D4>;
var<workgroup> scratch: array<vec4<f32>, WG * HB4>;  // score partials
var<workgroup> ps: array<f32, HB * C>;
var<workgroup> pe: array<f32, HB * C>;   // exp(s - m) per (head, key)
const KN: u32 = 1u + (4u * D4 - 1u) * u32(ROPE);
var<workgroup> knew: array<vec4<f32>, KN>;  // ROPE: the roped new keys, [T <= 4, D4]

// Four floats of a k or v row from float index `row` (its dims 4c..4c+3; past D: whatever
// follows, multiplied by zero q or never stored).
fn k_at(row: u32, c: u32) -> vec4<f32> {
  if (V4) { return buf_k4[row / 4u + c]; }
  let b = row + 4u * c;
  return vec4<f32>(buf_k[b], buf_k[b + 1u], buf_k[b + 2u], buf_k[b + 3u]);
}
fn v_at(row: u32, c: u32) -> vec4<f32> {
  if (V4) { return buf_v4[row / 4u + c]; }
  let b = row + 4u * c;
  return vec4<f32>(buf_v[b], buf_v[b + 1u], buf_v[b + 2u], buf_v[b + 3u]);
}

// Element d of a row roped for position `pos`, from its elements d (x), d mod half (a) and
// d mod half + half (b).
fn roped(d: u32, pos: u32, half: u32, a: f32, b: f32, x: f32) -> f32 {
  if (d >= 2u * half) { return x; }
  let cs = cos_sin(f32(pos) * buf_freq[P.freq_off + d % half]) * P.scaling;
  return rope_elem(d, half, a, b, x, cs);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let s = wid.x;
  let t = wid.z;
  let H = P.H;
  let KV = P.KV;
  let G = H / KV;
  let kvh = wid.y / P.n_hb;
  let h0 = kvh * G + (wid.y % P.n_hb) * HB;  // the block's first head
  let nh = min(HB, kvh * G + G - h0);        // heads in this block
  let pos0 = P.pos0;
  let pos = pos0 + t;
  let win = P.window;
  let first = first_key(pos, win);
  let j0 = P.key0 + s * C;
  let half = P.half;

  // The block's queries, zero past D and past its heads.
  let qb = P.q_off + (t * H + h0) * D;
  for (var i = lid; i < HB * D4; i += WG) {
    let hh = i / D4;
    let d = 4u * (i % D4);
    var q = vec4<f32>(0.0);
    for (var e = 0u; e < 4u; e++) {
      if (hh < nh && d + e < D) {
        let rb = qb + hh * D;
        q[e] = buf_q[rb + d + e];
        if (ROPE) { q[e] = roped(d + e, pos, half, buf_q[rb + (d + e) % half], buf_q[rb + (d + e) % half + half], q[e]); }
      }
    }
    qs[i] = q;
  }
  // The new keys below this chunk's end, roped; workgroups of query 0 and head block 0 store
  // those in the chunk, and their values, in the caches.
  let n_new = min(P.T, j0 + C - min(pos0, j0 + C));
  if (ROPE && j0 + C > pos0) {
    let owner = t == 0u && wid.y % P.n_hb == 0u;
    for (var i = lid; i < n_new * D4; i += WG) {
      let tn = i / D4;
      let d = 4u * (i % D4);
      let b = P.kn_off + (tn * KV + kvh) * D;
      var kr = vec4<f32>(0.0);
      for (var e = 0u; e < 4u; e++) {
        if (d + e < D) {
          let p = (d + e) % half;
          kr[e] = roped(d + e, pos0 + tn, half, buf_kn[b + p], buf_kn[b + p + half], buf_kn[b + d + e]);
        }
      }
      knew[i] = kr;
      let j = pos0 + tn;
      if (owner && j >= j0) {
        let row = ((j * KV + kvh) * D) / 4u + i % D4;
        buf_k4[P.k_off / 4u + row] = kr;
        let vb = P.vn_off + (tn * KV + kvh) * D + d;
        buf_v4[P.v_off / 4u + row] = vec4<f32>(buf_vn[vb], buf_vn[vb + 1u], buf_vn[vb + 2u], buf_vn[vb + 3u]);
      }
    }
  }
  workgroupBarrier();

  // Scores. Invocation (key jj, part r) takes dims 4c.. for c = r, r + PARTS, ... of all heads.
  {
    let jj = lid / PARTS;
    let r = lid % PARTS;
    let j = j0 + jj;
    var acc: array<vec4<f32>, HB4>;
    for (var g = 0u; g < HB4; g++) { acc[g] = vec4<f32>(0.0); }
    if (j >= first && j <= pos) {
      let row = P.k_off + (j * KV + kvh) * D;
      for (var c = r; c < D4; c += PARTS) {
        var kv: vec4<f32>;
        if (ROPE && j >= pos0) { kv = knew[(j - pos0) * D4 + c]; } else { kv = k_at(row, c); }
        for (var h = 0u; h < HB; h++) { acc[h / 4u][h % 4u] += dot(qs[h * D4 + c], kv); }
      }
    }
    for (var g = 0u; g < HB4; g++) { scratch[lid * HB4 + g] = acc[g]; }
  }
  workgroupBarrier();
  for (var i = lid; i < HB * C; i += WG) {
    let jj = i % C;
    let hh = i / C;
    let j = j0 + jj;
    var sc = MASKED;
    if (hh < nh && j >= first && j <= pos) {
      var sum = 0.0;
      for (var r = 0u; r < PARTS; r++) { sum += scratch[(jj * PARTS + r) * HB4 + hh / 4u][hh % 4u]; }
      sc = sum * P.scale;
    }
    ps[i] = sc;
  }
  workgroupBarrier();

  // Per (head, key): m = the head's max score over the chunk, p = exp(s - m) (0 where masked).
  // The C reads of one head's scores are the same for all its keys' invocations (broadcasts).
  let stride = P.n_split * (D + 2u);
  for (var i = lid; i < HB * C; i += WG) {
    let hb = (i / C) * C;
    var m = MASKED;
    for (var jj = 0u; jj < C; jj++) { m = max(m, ps[hb + jj]); }
    let sc = ps[i];
    pe[i] = select(0.0, exp(sc - m), sc > MASKED);
    if (i % C == 0u && i / C < nh) { buf_part[P.part_off + (t * H + h0 + i / C) * stride + s * (D + 2u)] = m; }
  }
  workgroupBarrier();

  // acc[h, 4c..4c+3] = sum_j p[h, j] v[j, 4c..] and l[h] = sum_j p[h, j]: one invocation per (head,
  // 4 dims), all keys of the chunk, 8 value loads in flight at a time (rows past pos read row
  // pos and get weight 0); the p reads are broadcasts within a head's invocations.
  for (var i = lid; i < HB * D4; i += WG) {
    let h = i / D4;
    let c = i % D4;
    var acc = vec4<f32>(0.0);
    var l = 0.0;
    for (var j8 = 0u; j8 < C; j8 += 8u) {
      var vv: array<vec4<f32>, 8>;
      for (var q = 0u; q < 8u; q++) { vv[q] = v_at(P.v_off + (min(j0 + j8 + q, pos) * KV + kvh) * D, c); }
      for (var q = 0u; q < 8u; q++) {
        let p = pe[h * C + j8 + q];
        let j = j0 + j8 + q;
        var v = vv[q];
        if (ROPE && j >= pos0 && j <= pos) {
          let vb = P.vn_off + ((j - pos0) * KV + kvh) * D + 4u * c;
          v = vec4<f32>(buf_vn[vb], buf_vn[vb + 1u], buf_vn[vb + 2u], buf_vn[vb + 3u]);
        }
        l += p;
        acc += p * select(vec4<f32>(0.0), v, p > 0.0);
      }
    }
    if (h < nh) {
      let pb = P.part_off + (t * H + h0 + h) * stride + s * (D + 2u);
      if (c == 0u) { buf_part[pb + 1u] = l; }
      for (var e = 0u; e < 4u; e++) {
        if (4u * c + e < D) { buf_part[pb + 2u + 4u * c + e] = acc[e]; }
      }
    }
  }
}
