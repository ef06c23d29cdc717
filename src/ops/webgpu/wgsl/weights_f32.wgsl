// F32 weight rows: 4 values per vec4<u32> unit (f32 bits), rows padded to whole units.
// Every weights_*.wgsl file defines the same names, so a kernel is written once for all formats:
//   UNIT, XN        elements per unit; 4-element chunks of x a unit needs
//   unit_elem(u, j) first column of the j-th 4-element chunk of unit u
//   w_unit_dot      dot product of unit u of a row with its x chunks (sx: the sum of those x)
//   w_vec4          columns c..c+3 of a row, dequantized (c a multiple of 4)

const UNIT: u32 = 4u;
const XN: u32 = 1u;

fn unit_elem(u: u32, j: u32) -> u32 { return u * 4u + j * 4u; }

fn w_unit_dot(wi: WeightRef, row: u32, u: u32, xv: array<vec4<f32>, XN>, sx: f32) -> f32 {
  return dot(bitcast<vec4<f32>>(buf_wq[wi.base + row * wi.stride + u]), xv[0]);
}

fn w_vec4(wi: WeightRef, row: u32, c: u32) -> vec4<f32> {
  return bitcast<vec4<f32>>(buf_wq[wi.base + row * wi.stride + c / 4u]);
}
