// Shared by the weights_<format>.wgsl snippets (composed before them).

// A weight matrix (chunk) in a buffer that may hold others: vec4<u32> units per row, offsets (in
// u32 words, from the buffer's start) of the per-row / per-group scales and minimums, and where
// its rows start (in vec4<u32> units). WeightRef in kernel_params.h.
struct WeightRef {
  stride: u32,
  scale_off: u32,
  min_off: u32,
  base: u32,
}

// One u32 word of the weight buffer (scales and minimums live after the data).
fn w_word(i: u32) -> u32 { return buf_wq[i >> 2u][i & 3u]; }

// The four signed bytes of w (lowest first), sign-extended: int8 and Q8_0 quants.
fn i8x4(w: u32) -> vec4<f32> {
  return vec4<f32>((vec4<i32>(bitcast<i32>(w)) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u));
}
