// Two copies in one dispatch (k and v into the KV cache): dst0[i] = src0[i] for i < n0, then
// dst1[j] = src1[j] for j < n1. P: 0 src0_off, 1 dst0_off, 2 n0, 3 src1_off, 4 dst1_off, 5 n1

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  let n0 = pu(2);
  if (i < n0) {
    buf_dst0[pu(1) + i] = buf_src0[pu(0) + i];
  } else if (i - n0 < pu(5)) {
    buf_dst1[pu(4) + i - n0] = buf_src1[pu(3) + i - n0];
  }
}
