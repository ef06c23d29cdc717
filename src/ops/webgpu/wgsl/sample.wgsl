// Token sampling on the GPU (one workgroup; sample_common.wgsl is its prelude), the semantics of ref::sample_device (ops/cpu/
// ref_ops.h): penalties -> argmax when greedy -> weights exp((l - max) / T) -> top-k and top-p
// as a prefix of the tokens ranked by (logit desc, id asc) -> min-p -> a draw in id order.
// Top-k and top-p boundaries are found by radix selection over the logits' order-preserving
// bit keys (4 bits per pass, counts or masses accumulated per invocation, then summed), with
// masses in 64-bit fixed point (weight * 2^31, as vec2<u32>) so that every sum is exact and
// does not depend on the order of additions. Ties on the boundary key are taken in id order
// over contiguous chunks, one per invocation (chunk_of), whose masses are prefix-summed in
// workgroup memory. As soon as the top-k selection has at most WG candidates left, they are
// gathered in id order, one per invocation, and every later pass (the rest of top-k, top-p,
// min-p, the draw) visits only those instead of all n logits.
// With CAND, x is the candidate list of sample_topk.wgsl (penalties applied, ids at cand_ids_off
// as floats, n candidates in id order): the pick is mapped to its id, and with PEN the penalty
// counts (over the vocabulary's n_full tokens) are updated at that id.
// Consts: WG, PEN, CAND, XV4 (x_off a multiple of 4: x is also read through the vec4 view xv).

var<workgroup> bins_lo: array<atomic<u32>, 16>;
var<workgroup> bins_hi: array<atomic<u32>, 16>;
var<workgroup> part: array<vec2<u32>, WG>;
var<workgroup> ctl: array<u32, 8>;     // 0 key, 1 id, 2/3 mass above (lo, hi), 4 chunk owner
var<workgroup> ctl_f: f32;

// Elements 4g .. 4g + 3 as logit() gives them, read through the vec4 view xv with XV4.
fn logit4(g: u32) -> vec4<f32> {
  if ((PEN && !CAND) || !XV4) { return vec4<f32>(logit(4u * g), logit(4u * g + 1u), logit(4u * g + 2u), logit(4u * g + 3u)); }
  var l = buf_xv[P.x_off / 4u + g];
  for (var e = 0u; e < 4u; e++) {
    if (l[e] != l[e]) { l[e] = neg_inf(); }
  }
  return l;
}

// The full scans below visit groups of 4 elements in 4 streams per invocation (loads in flight
// at once), each invocation's elements in increasing id order; the n % 4 last elements go to
// invocations 0.. after the groups.

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}
fn f64of(a: vec2<u32>) -> f32 { return f32(a.y) * 4294967296.0 + f32(a.x); }

// Fixed-point weight of a token (0 when outside the kept set so far).
fn weight_q(l: f32, m: f32) -> u32 { return u32(round(exp((l - m) * P.inv_temp) * 2147483648.0)); }

// Whether a running mass c has reached the limit: with exact, passed the integer U; else its
// float value is >= goal.
fn reaches(c: vec2<u32>, goal: f32, U: vec2<u32>, exact: bool) -> bool {
  if (exact) { return c.y > U.y || (c.y == U.y && c.x > U.x); }
  return f64of(c) >= goal;
}

struct Owner {
  t: u32,             // the invocation whose chunk holds the boundary (WG: none)
  before: vec2<u32>,  // the running mass before that chunk
}

// Inclusive prefix sums of part[0 .. WG) in place (log2 WG doubling steps; every invocation
// calls it).
fn scan_part(ln: Lane) {
  workgroupBarrier();
  for (var st = 1u; st < WG; st <<= 1u) {
    var v = part[ln.lid];
    if (ln.lid >= st) { v = add64(v, part[ln.lid - st]); }
    workgroupBarrier();
    part[ln.lid] = v;
    workgroupBarrier();
  }
}

// After scan_part over the per-chunk masses: the invocation whose chunk holds the point where
// the running mass from `start` reaches the limit, and the mass before that chunk (WG and the
// total when none does). Every invocation calls it.
fn chunk_owner(start: vec2<u32>, goal: f32, U: vec2<u32>, exact: bool, ln: Lane) -> Owner {
  let inc = add64(start, part[ln.lid]);
  var exc = start;
  if (ln.lid > 0u) { exc = add64(start, part[ln.lid - 1u]); }
  let total = add64(start, part[WG - 1u]);
  if (reaches(inc, goal, U, exact) && !reaches(exc, goal, U, exact)) {
    ctl[4] = ln.lid;
    ctl[2] = exc.x;
    ctl[3] = exc.y;
  }
  workgroupBarrier();
  if (!reaches(total, goal, U, exact)) { return Owner(WG, total); }
  return Owner(ctl[4], vec2<u32>(ctl[2], ctl[3]));
}

struct Bound {
  key: u32,
  id: u32,
}

fn kept(i: u32, k: u32, b: Bound) -> bool { return k > b.key || (k == b.key && i <= b.id); }

// Invocation t's share of the id-order scans: groups of 4 [x, y), then single elements [z, w)
// (the n % 4 last ones, all with the last invocation), so that invocation t's ids all precede
// invocation t + 1's.
fn chunk_of(t: u32) -> vec4<u32> {
  let n = P.n;
  let ng = n / 4u;
  let per = (ng + WG - 1u) / WG;
  let lo = min(t * per, ng);
  let tail = select(4u * ng, n, t == WG - 1u);
  return vec4<u32>(lo, min(lo + per, ng), 4u * ng, tail);
}

// Whether token i (logit l) is on the boundary key and inside lim.
fn tie_in(i: u32, l: f32, prefix: u32, lim: Bound) -> bool {
  let k = key_of(l);
  return k == prefix && kept(i, k, lim);
}

// Whether token i (logit l) is kept by lim and min-p.
fn drawn(i: u32, l: f32, lim: Bound, m: f32) -> bool {
  return kept(i, key_of(l), lim) && exp((l - m) * P.inv_temp) >= P.min_p;
}

// Adds token i (logit l) to its radix bin when it matches the prefix so far and is inside lim.
fn bin_add(acc: ptr<function, array<vec2<u32>, 16>>, i: u32, l: f32, prefix: u32, mask: u32, shift: u32, lim: Bound,
           count: bool, m: f32) {
  let k = key_of(l);
  if ((k & mask) == prefix && kept(i, k, lim)) {
    let d = (k >> shift) & 15u;
    (*acc)[d] = add64((*acc)[d], vec2<u32>(select(weight_q(l, m), 1u, count), 0u));
  }
}

// Where the scans take their tokens from: all n logits, each invocation its chunk (compact
// false); or, once the top-k candidates are known to number at most WG, those candidates in id
// order, one per invocation (token id, logit l; has is false past the last one). Every result
// is the same either way; the compact set only saves the passes over all n.
struct Src {
  compact: bool,
  has: bool,
  id: u32,
  l: f32,
}

// Which tokens a share counts: inside lim (KEPT), on the boundary key `prefix` and inside lim
// (TIE), inside lim and min-p (DRAWN).
const KEPT: u32 = 0u;
const TIE: u32 = 1u;
const DRAWN: u32 = 2u;

fn picked(what: u32, i: u32, l: f32, prefix: u32, lim: Bound, m: f32) -> bool {
  if (what == TIE) { return tie_in(i, l, prefix, lim); }
  if (what == DRAWN) { return drawn(i, l, lim, m); }
  return kept(i, key_of(l), lim);
}

// A token's measure: 1 (count), or its fixed-point weight.
fn measure(l: f32, count: bool, m: f32) -> vec2<u32> { return vec2<u32>(select(weight_q(l, m), 1u, count), 0u); }

// The measure of invocation lid's share of the tokens `what` picks.
fn share(src: Src, what: u32, prefix: u32, lim: Bound, count: bool, m: f32, lid: u32) -> vec2<u32> {
  var s = vec2<u32>(0u);
  if (src.compact) {
    if (src.has && picked(what, src.id, src.l, prefix, lim, m)) { s = measure(src.l, count, m); }
    return s;
  }
  let ch = chunk_of(lid);
  for (var g = ch.x; g < ch.y; g++) {
    let l4 = logit4(g);
    for (var e = 0u; e < 4u; e++) {
      if (picked(what, 4u * g + e, l4[e], prefix, lim, m)) { s = add64(s, measure(l4[e], count, m)); }
    }
  }
  for (var i = ch.z; i < ch.w; i++) {
    let l = logit(i);
    if (picked(what, i, l, prefix, lim, m)) { s = add64(s, measure(l, count, m)); }
  }
  return s;
}

// The owner's walk over its share, in id order, from the mass `start` before it: the first
// token at which the running mass reaches the limit (`none` if it never does).
fn walk(src: Src, what: u32, prefix: u32, lim: Bound, count: bool, m: f32, lid: u32, start: vec2<u32>, goal: f32,
        U: vec2<u32>, exact: bool, none: u32) -> u32 {
  if (src.compact) { return src.id; }  // the owner's one token (its share is not empty)
  var c = start;
  let ch = chunk_of(lid);
  for (var g = ch.x; g < ch.y; g++) {
    let l4 = logit4(g);
    for (var e = 0u; e < 4u; e++) {
      if (picked(what, 4u * g + e, l4[e], prefix, lim, m)) {
        c = add64(c, measure(l4[e], count, m));
        if (reaches(c, goal, U, exact)) { return 4u * g + e; }
      }
    }
  }
  for (var i = ch.z; i < ch.w; i++) {
    let l = logit(i);
    if (picked(what, i, l, prefix, lim, m)) {
      c = add64(c, measure(l, count, m));
      if (reaches(c, goal, U, exact)) { return i; }
    }
  }
  return none;
}

// Whether token i (logit l) is inside lim with a masked key of at least prefix.
fn candidate(i: u32, l: f32, prefix: u32, mask: u32, lim: Bound) -> bool {
  let k = key_of(l);
  return (k & mask) >= prefix && kept(i, k, lim);
}

// The top-k candidates (see candidate; at most WG), gathered in id order, one per invocation.
fn gather(prefix: u32, mask: u32, lim: Bound, ln: Lane) -> Src {
  let ch = chunk_of(ln.lid);
  var c = 0u;
  for (var g = ch.x; g < ch.y; g++) {
    let l4 = logit4(g);
    for (var e = 0u; e < 4u; e++) {
      if (candidate(4u * g + e, l4[e], prefix, mask, lim)) { c++; }
    }
  }
  for (var i = ch.z; i < ch.w; i++) {
    if (candidate(i, logit(i), prefix, mask, lim)) { c++; }
  }
  part[ln.lid] = vec2<u32>(c, 0u);
  scan_part(ln);
  var o = part[ln.lid].x - c;
  let total = part[WG - 1u].x;
  workgroupBarrier();
  for (var g = ch.x; g < ch.y; g++) {
    let l4 = logit4(g);
    for (var e = 0u; e < 4u; e++) {
      if (candidate(4u * g + e, l4[e], prefix, mask, lim)) {
        part[o] = vec2<u32>(4u * g + e, bitcast<u32>(l4[e]));
        o++;
      }
    }
  }
  for (var i = ch.z; i < ch.w; i++) {
    let l = logit(i);
    if (candidate(i, l, prefix, mask, lim)) {
      part[o] = vec2<u32>(i, bitcast<u32>(l));
      o++;
    }
  }
  workgroupBarrier();
  var src = Src(true, false, 0u, 0.0);
  if (ln.lid < total) {
    let e = part[ln.lid];
    src = Src(true, true, e.x, bitcast<f32>(e.y));
  }
  workgroupBarrier();
  return src;
}

// The smallest prefix (in rank order) of the tokens inside `lim` whose measure reaches `goal`
// (count when COUNT, else fixed-point mass): its last token as (key, id). Counting (top-k), it
// switches *src to the compact set as soon as the candidates left number at most WG.
fn select_prefix(lim: Bound, goal: f32, count: bool, m: f32, ln: Lane, srcp: ptr<function, Src>) -> Bound {
  let n = P.n;
  var prefix = 0u;
  var mask = 0u;
  if (ln.lid == 0u) {
    ctl[2] = 0u;
    ctl[3] = 0u;
  }
  for (var shift = 28i; shift >= 0; shift -= 4) {
    if (ln.lid < 16u) {
      atomicStore(&bins_lo[ln.lid], 0u);
      atomicStore(&bins_hi[ln.lid], 0u);
    }
    workgroupBarrier();
    var acc: array<vec2<u32>, 16>;
    for (var d = 0u; d < 16u; d++) { acc[d] = vec2<u32>(0u); }  // zeroed explicitly every pass
    let src = *srcp;
    if (src.compact) {
      if (src.has) { bin_add(&acc, src.id, src.l, prefix, mask, u32(shift), lim, count, m); }
    } else {
      let ng = n / 4u;
      for (var g0 = ln.lid; g0 < ng; g0 += 4u * WG) {
        for (var u = 0u; u < 4u; u++) {
          let g = g0 + u * WG;
          if (g < ng) {
            let l4 = logit4(g);
            for (var e = 0u; e < 4u; e++) { bin_add(&acc, 4u * g + e, l4[e], prefix, mask, u32(shift), lim, count, m); }
          }
        }
      }
      let it = 4u * ng + ln.lid;
      if (it < n) { bin_add(&acc, it, logit(it), prefix, mask, u32(shift), lim, count, m); }
    }
    for (var d = 0u; d < 16u; d++) {
      if (acc[d].x != 0u || acc[d].y != 0u) {
        let old = atomicAdd(&bins_lo[d], acc[d].x);
        atomicAdd(&bins_hi[d], acc[d].y + select(0u, 1u, old + acc[d].x < old));
      }
    }
    workgroupBarrier();
    if (ln.lid == 0u) {
      var above = vec2<u32>(ctl[2], ctl[3]);
      var pick = 0u;
      var upto = above;  // the measure of the tokens in the picked bin and above
      for (var d = 15i; d >= 0; d--) {
        let c = add64(above, vec2<u32>(atomicLoad(&bins_lo[d]), atomicLoad(&bins_hi[d])));
        if (reaches(c, goal, vec2<u32>(0u), false) || d == 0) {
          pick = u32(d);
          upto = c;
          break;
        }
        above = c;
      }
      ctl[0] = pick;
      ctl[2] = above.x;
      ctl[3] = above.y;
      ctl[5] = select(0u, 1u, count && !src.compact && upto.y == 0u && upto.x <= WG);
    }
    let d = workgroupUniformLoad(&ctl[0]);
    prefix |= d << u32(shift);
    mask |= 15u << u32(shift);
    if (workgroupUniformLoad(&ctl[5]) == 1u) { *srcp = gather(prefix, mask, lim, ln); }
  }
  // Ties on the boundary key, in id order: each invocation sums its share, the owner walks its own.
  let src = *srcp;
  let start = vec2<u32>(ctl[2], ctl[3]);
  part[ln.lid] = share(src, TIE, prefix, lim, count, m, ln.lid);
  scan_part(ln);
  let o = chunk_owner(start, goal, vec2<u32>(0u), false, ln);
  if (o.t == WG && ln.lid == 0u) { ctl[1] = n - 1u; }  // none: every tie is kept, as with id n - 1
  if (ln.lid == o.t) { ctl[1] = walk(src, TIE, prefix, lim, count, m, ln.lid, o.before, goal, vec2<u32>(0u), false, n - 1u); }
  let id = workgroupUniformLoad(&ctl[1]);
  return Bound(prefix, id);
}

@compute @workgroup_size(WG)
fn main(ln: Lane) {
  let n = P.n;
  var bm = neg_inf();
  var bi = 0u;
  let ng = n / 4u;
  for (var g0 = ln.lid; g0 < ng; g0 += 4u * WG) {
    for (var u = 0u; u < 4u; u++) {
      let g = g0 + u * WG;
      if (g < ng) {
        let l4 = logit4(g);
        for (var e = 0u; e < 4u; e++) {
          if (l4[e] > bm) {
            bm = l4[e];
            bi = 4u * g + e;
          }
        }
      }
    }
  }
  let it = 4u * ng + ln.lid;
  if (it < n) {
    let l = logit(it);
    if (l > bm) {
      bm = l;
      bi = it;
    }
  }
  let best = wg_argmax(bm, bi, ln);
  let mx = wg_max(bm, ln);
  if (ln.lid == 0u) { ctl_f = mx; }
  let m = workgroupUniformLoad(&ctl_f);
  var pick = best;
  if (P.greedy == 0u && m > neg_inf()) {
    var src = Src(false, false, 0u, 0.0);
    var lim = Bound(0u, n);  // every token
    let k = P.top_k;
    if (k > 0u && k < n) { lim = select_prefix(lim, f32(k), true, m, ln, &src); }
    if (P.top_p < 1.0) {
      // Mass of the top-k set, then the top-p prefix inside it.
      part[ln.lid] = share(src, KEPT, 0u, lim, false, m, ln.lid);
      scan_part(ln);
      let goal = P.top_p * f64of(part[WG - 1u]);
      lim = select_prefix(lim, goal, false, m, ln, &src);
    }
    // min-p, then the draw: u * (kept mass), walked in id order over the shares.
    part[ln.lid] = share(src, DRAWN, 0u, lim, false, m, ln.lid);
    scan_part(ln);
    let uf = buf_u[P.u_off] * f64of(part[WG - 1u]);
    let uh = floor(uf / 4294967296.0);
    let U = vec2<u32>(u32(uf - uh * 4294967296.0), u32(uh));
    if (ln.lid == 0u) { ctl[1] = best; }
    let o = chunk_owner(vec2<u32>(0u), 0.0, U, true, ln);
    if (ln.lid == o.t) { ctl[1] = walk(src, DRAWN, 0u, lim, false, m, ln.lid, o.before, 0.0, U, true, best); }
    pick = workgroupUniformLoad(&ctl[1]);
  }
  if (ln.lid == 0u) {
    var id = pick;
    var nv = n;
    if (CAND) {
      id = u32(buf_x[P.cand_ids_off + pick]);
      nv = P.n_full;
    }
    buf_out[P.out_off] = f32(id);
    if (PEN) { buf_pen[P.pen_off + nv + id] += 1.0; }
  }
}
