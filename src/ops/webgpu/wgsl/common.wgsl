// Helpers shared by every kernel. The backend prepends the bindings: P (this dispatch's
// parameters: the kernel's `struct Params`, bound at a dynamic offset) and one array per
// distinct buffer, then renames the kernel's buf_* identifiers to them, so two operands that
// name one buffer share a binding.

// Workgroup index of a grid that was spread over x and y (x <= 65535 workgroups per dimension).
fn wg_linear(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + wid.y * nwg.x; }

// The first key visible to query position pos in attention windowed to win keys (0: causal
// only): key j is visible when pos - win < j <= pos.
fn first_key(pos: u32, win: u32) -> u32 {
  if (win > 0u && pos + 1u > win) { return pos + 1u - win; }
  return 0u;
}
