// Arms words pu(0) .. pu(0) + pu(1) - 1 of the LoRA t ring with the mark of a value not yet
// published (LA_MARK, matvec_common.wgsl): the matrix-vector kernels' A workgroups overwrite
// them with the values, and their other workgroups wait until the mark is gone.
// P: 0 first word, 1 words

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  if (i < pu(1)) { atomicStore(&buf_ring[pu(0) + i], 0xffffffffu); }
}
