// The parameters of every WGSL kernel, one struct each, mirrored field for field by the
// `struct Params` (and the structs it holds) in the kernel's .wgsl file. Each struct is written
// once as a field list; the same list gives its C++ members and kLayout ("name:type,..."), which
// tests/kernel_params_test.cpp compares with the WGSL declarations. Offsets are in elements
// (f32 / u32 words) from the start of the bound buffer; weight offsets: see weights_common.wgsl.
// Only 4-byte members: the storage layout of the WGSL struct is then these members in order.
#pragma once
#include <cstdint>
#include <cstring>
#include <string_view>

namespace hearth::webgpu {

using u32 = uint32_t;
using f32 = float;

#define HEARTH_PARAM_DECL(type, name) type name{};
#define HEARTH_PARAM_DECL_ARRAY(type, name, n) type name[n]{};
#define HEARTH_PARAM_LAYOUT(type, name) #name ":" #type ","
#define HEARTH_PARAM_LAYOUT_ARRAY(type, name, n) #name ":array<" #type "," #n ">,"
// A struct named `Name` with the fields FIELDS(F, A) lists: F(type, name), A(type, name, count).
#define HEARTH_KERNEL_PARAMS(Name, FIELDS)                                                        \
  struct Name {                                                                                   \
    FIELDS(HEARTH_PARAM_DECL, HEARTH_PARAM_DECL_ARRAY)                                            \
    static constexpr std::string_view kLayout = FIELDS(HEARTH_PARAM_LAYOUT, HEARTH_PARAM_LAYOUT_ARRAY); \
  };                                                                                              \
  static_assert(sizeof(Name) % 4 == 0)

// f32 bits as the u32 the WGSL side bitcasts (for u32 fields that carry a float).
inline u32 fbits(float f) {
  u32 u;
  std::memcpy(&u, &f, 4);
  return u;
}

// A weight matrix (chunk) in a buffer that may hold others (weights_common.wgsl WInfo).
#define HEARTH_WEIGHT_REF(F, A) F(u32, stride) F(u32, scale_off) F(u32, min_off) F(u32, base)
HEARTH_KERNEL_PARAMS(WeightRef, HEARTH_WEIGHT_REF);

// rmsnorm.wgsl, rmsnorm_subgroup.wgsl
#define HEARTH_RMSNORM_PARAMS(F, A) F(u32, x_off) F(u32, w_off) F(u32, out_off) F(u32, rows) F(u32, d) F(f32, eps)
HEARTH_KERNEL_PARAMS(RmsnormParams, HEARTH_RMSNORM_PARAMS);

// elementwise.wgsl; the op is the constant OP (ElementwiseOp).
#define HEARTH_ELEMENTWISE_PARAMS(F, A) F(u32, a_off) F(u32, b_off) F(u32, out_off) F(u32, n)
HEARTH_KERNEL_PARAMS(ElementwiseParams, HEARTH_ELEMENTWISE_PARAMS);
// WGSL: OP_ADD, OP_SWIGLU, OP_COPY, OP_MASK
enum class ElementwiseOp : u32 { Add = 0, SwiGLU = 1, Copy = 2, Mask = 3 };

// embed.wgsl; with ids from the parameters, T ids follow the struct (its runtime-sized `ids`).
#define HEARTH_EMBED_PARAMS(F, A) \
  F(u32, out_off) F(u32, T) F(u32, cols) F(u32, row0) F(u32, nrows) F(WeightRef, w) F(u32, ids_off)
HEARTH_KERNEL_PARAMS(EmbedParams, HEARTH_EMBED_PARAMS);

// rope.wgsl (prefill: RoPE of q and k, with STORE the stores of k and v into the caches).
#define HEARTH_ROPE_PARAMS(F, A)                                                                       \
  F(u32, x_off) F(u32, T) F(u32, H) F(u32, D) F(u32, pos0) F(u32, half) F(f32, scaling) F(u32, freq_off) \
  F(u32, x2_off) F(u32, H2) F(u32, kc_off) F(u32, v_off) F(u32, vc_off) F(u32, n_v) F(u32, tail)
HEARTH_KERNEL_PARAMS(RopeParams, HEARTH_ROPE_PARAMS);

// attention_decode_splitk.wgsl; with ROPE, the roped k and v of the new tokens (kn, vn at
// kn_off / vn_off, [T, KV, D]) are stored into the caches by the kernel.
#define HEARTH_ATTN_DECODE_PARAMS(F, A)                                                                 \
  F(u32, q_off) F(u32, k_off) F(u32, v_off) F(u32, part_off) F(u32, T) F(u32, pos0) F(u32, H) F(u32, KV) \
  F(u32, n_hb) F(u32, window) F(f32, scale) F(u32, n_split) F(u32, key0) F(u32, freq_off) F(u32, half)    \
  F(f32, scaling) F(u32, kn_off) F(u32, vn_off)
HEARTH_KERNEL_PARAMS(AttentionDecodeParams, HEARTH_ATTN_DECODE_PARAMS);

// attention_combine.wgsl
#define HEARTH_ATTN_COMBINE_PARAMS(F, A) \
  F(u32, part_off) F(u32, out_off) F(u32, T) F(u32, H) F(u32, D) F(u32, n_split)
HEARTH_KERNEL_PARAMS(AttentionCombineParams, HEARTH_ATTN_COMBINE_PARAMS);

// attention_prefill.wgsl, attention_prefill_sg.wgsl (n_hb: the subgroup kernel's head blocks;
// with LSE, each row's log-sum-exp to lse_off: [T, H]). Grid z: independent sequences of T
// tokens back to back (training).
#define HEARTH_ATTN_PREFILL_PARAMS(F, A)                                                                \
  F(u32, q_off) F(u32, k_off) F(u32, v_off) F(u32, out_off) F(u32, T) F(u32, pos0) F(u32, H) F(u32, KV) \
  F(u32, D) F(u32, window) F(f32, scale) F(u32, n_hb) F(u32, lse_off)
HEARTH_KERNEL_PARAMS(AttentionPrefillParams, HEARTH_ATTN_PREFILL_PARAMS);

// matmul_tiled.wgsl (prefill products); with RESID, res[t, row] += the stored value.
#define HEARTH_TILED_PARAMS(F, A)                                                                       \
  F(u32, x_off) F(u32, out_off) F(u32, bias_off) F(u32, T) F(u32, cols) F(u32, out_stride) F(u32, row0) \
  F(u32, nrows) F(WeightRef, w) F(u32, res_off)
HEARTH_KERNEL_PARAMS(TiledParams, HEARTH_TILED_PARAMS);

// dequant.wgsl: rows row0.. of a quantized matrix as f32 rows (the prefill products' scratch).
#define HEARTH_DEQUANT_PARAMS(F, A) F(WeightRef, w) F(u32, row0) F(u32, nrows) F(u32, cols)
HEARTH_KERNEL_PARAMS(DequantParams, HEARTH_DEQUANT_PARAMS);

// q8_0_roundtrip.wgsl: blocks of 32 activations through Q8_0 and back.
#define HEARTH_Q8_ROUNDTRIP_PARAMS(F, A) F(u32, x_off) F(u32, out_off) F(u32, blocks)
HEARTH_KERNEL_PARAMS(Q8RoundtripParams, HEARTH_Q8_ROUNDTRIP_PARAMS);

// matvec_common.wgsl (matmul_vec.wgsl, matmul_vec_subgroup.wgsl): one matrix of the group.
#define HEARTH_MATVEC_MAT(F, A)                                                                  \
  F(u32, vbase) F(u32, nrows) F(WeightRef, w) F(u32, out_off) F(u32, out_stride) F(u32, bias_off) \
  F(u32, x_off) F(u32, accumulate)
HEARTH_KERNEL_PARAMS(MatvecMat, HEARTH_MATVEC_MAT);
// A LoRA B product folded into a matrix's store (LB): B's rows at b_base (no B: 0xffffffff).
#define HEARTH_MATVEC_LORA(F, A) F(u32, b_base) F(u32, b_stride) F(u32, t_off) F(u32, rank)
HEARTH_KERNEL_PARAMS(MatvecLora, HEARTH_MATVEC_LORA);
#define HEARTH_MATVEC_PARAMS(F, A)                                                                     \
  F(u32, x_off) F(u32, T) F(u32, cols) F(u32, w_stride) F(u32, nw_off) F(f32, eps) F(u32, vrows)      \
  F(u32, sw_off) F(u32, h_off) F(u32, res_off) A(MatvecMat, mats, 3) A(MatvecLora, lora, 3)
HEARTH_KERNEL_PARAMS(MatvecParams, HEARTH_MATVEC_PARAMS);

// argmax.wgsl
#define HEARTH_ARGMAX_PARAMS(F, A) F(u32, x_off) F(u32, n) F(u32, out_off)
HEARTH_KERNEL_PARAMS(ArgmaxParams, HEARTH_ARGMAX_PARAMS);

// sample.wgsl, sample_topk.wgsl (sample_common.wgsl): the device sampler.
#define HEARTH_SAMPLE_PARAMS(F, A)                                                                    \
  F(u32, x_off) F(u32, n) F(u32, out_off) F(u32, u_off) F(u32, pen_off) F(u32, greedy) F(f32, inv_temp) \
  F(u32, top_k) F(f32, top_p) F(f32, min_p) F(f32, rep) F(f32, presence) F(f32, frequency)            \
  F(u32, cand_ids_off) F(u32, n_full)
HEARTH_KERNEL_PARAMS(SampleParams, HEARTH_SAMPLE_PARAMS);

// quantize_int4.wgsl: checkpoint rows (16-bit values from element src_elem0 of src) quantized into
// a weight: packed words from dst word dst_base, row_words a row; (scale, minimum) pairs from sm_off.
// A row holding NaN or Inf writes row0 + its row + 1 into flags[flag_slot].
#define HEARTH_QUANTIZE_INT4_PARAMS(F, A)                                                                 \
  F(u32, src_elem0) F(u32, rows) F(u32, cols) F(u32, groups) F(u32, dst_base) F(u32, row_words) F(u32, sm_off) \
  F(u32, flag_slot) F(u32, row0)
HEARTH_KERNEL_PARAMS(QuantizeInt4Params, HEARTH_QUANTIZE_INT4_PARAMS);

// quantize_int8.wgsl: the same for int8 rows, their scales from scale_off.
#define HEARTH_QUANTIZE_INT8_PARAMS(F, A)                                                            \
  F(u32, src_elem0) F(u32, rows) F(u32, cols) F(u32, dst_base) F(u32, row_words) F(u32, scale_off) \
  F(u32, flag_slot) F(u32, row0)
HEARTH_KERNEL_PARAMS(QuantizeInt8Params, HEARTH_QUANTIZE_INT8_PARAMS);

// ---- Training kernels (webgpu_train.cpp, webgpu_train_attention.cpp).

// matmul_train.wgsl: C[m, n] (+)= alpha * (sum_k A(m, k) B(k, n) (+ bias[n])), A(m, k) at
// a_off + m a_sm + k a_sk, B(k, n) at b_off + k b_sk + n b_sn (or, with BW, row k, column n of
// the weight w), C row-major with row stride ldc; with SPLIT, workgroup z sums k_split values of
// k into C + z M N (then split_sum.wgsl).
#define HEARTH_MATMUL_TRAIN_PARAMS(F, A)                                                             \
  F(u32, a_off) F(u32, a_sm) F(u32, a_sk) F(u32, b_off) F(u32, b_sk) F(u32, b_sn) F(u32, c_off)      \
  F(u32, ldc) F(u32, bias_off) F(u32, M) F(u32, N) F(u32, K) F(f32, alpha) F(WeightRef, w) F(u32, k_split) \
  F(u32, flags)
HEARTH_KERNEL_PARAMS(MatmulTrainParams, HEARTH_MATMUL_TRAIN_PARAMS);
// Its flags (WGSL: F_A_K, F_B_N, ...); split_sum.wgsl reads Bias and Acc.
enum MatmulTrainFlags : u32 { kTrainAK = 1, kTrainBN = 2, kTrainBias = 4, kTrainAcc = 8, kTrainSplit = 16 };

// split_sum.wgsl: C[m, n] (+)= alpha * (sum over the splits s of part[s, m, n] (+ bias[n])).
#define HEARTH_SPLIT_SUM_PARAMS(F, A) \
  F(u32, part_off) F(u32, c_off) F(u32, ldc) F(u32, bias_off) F(u32, M) F(u32, N) F(u32, splits) F(f32, alpha) \
  F(u32, flags)
HEARTH_KERNEL_PARAMS(SplitSumParams, HEARTH_SPLIT_SUM_PARAMS);

// colsum.wgsl: out[c] += sum_r x[r, c] (with mul: x[r, c] y[r, c] s[r]) over rows, blocks of
// rows_per_block rows first summed into part[block, c] when n_blocks > 1 (stage2: their sum).
#define HEARTH_COLSUM_PARAMS(F, A)                                                                   \
  F(u32, x_off) F(u32, y_off) F(u32, s_off) F(u32, part_off) F(u32, out_off) F(u32, rows) F(u32, d)  \
  F(u32, rows_per_block) F(u32, n_blocks) F(u32, mul) F(u32, stage2)
HEARTH_KERNEL_PARAMS(ColsumParams, HEARTH_COLSUM_PARAMS);

// rmsnorm_backward.wgsl: dx of each row, and its 1 / rms into inv[r] (for the weight's gradient).
#define HEARTH_RMSNORM_BACKWARD_PARAMS(F, A)                                                         \
  F(u32, x_off) F(u32, w_off) F(u32, dy_off) F(u32, dx_off) F(u32, inv_off) F(u32, rows) F(u32, d)   \
  F(f32, eps) F(u32, accumulate) F(u32, write_inv)
HEARTH_KERNEL_PARAMS(RmsnormBackwardParams, HEARTH_RMSNORM_BACKWARD_PARAMS);

// rope_train.wgsl: x: [rows, H, D], row r at position r % T; sign -1: the inverse rotation.
#define HEARTH_ROPE_TRAIN_PARAMS(F, A) \
  F(u32, x_off) F(u32, rows) F(u32, T) F(u32, H) F(u32, D) F(u32, half) F(f32, scaling) F(f32, sign) F(u32, freq_off)
HEARTH_KERNEL_PARAMS(RopeTrainParams, HEARTH_ROPE_TRAIN_PARAMS);

// swiglu_backward.wgsl
#define HEARTH_SWIGLU_BACKWARD_PARAMS(F, A) \
  F(u32, gate_off) F(u32, up_off) F(u32, dout_off) F(u32, dgate_off) F(u32, dup_off) F(u32, n)
HEARTH_KERNEL_PARAMS(SwigluBackwardParams, HEARTH_SWIGLU_BACKWARD_PARAMS);

// embed_rows.wgsl; the T ids follow the struct (its runtime-sized `ids`).
#define HEARTH_EMBED_ROWS_PARAMS(F, A) F(u32, e_off) F(u32, out_off) F(u32, T) F(u32, d)
HEARTH_KERNEL_PARAMS(EmbedRowsParams, HEARTH_EMBED_ROWS_PARAMS);

// embed_backward.wgsl; after the struct (`ids`): the n_ids distinct ids, n_ids + 1 starts into
// the positions, then the positions of each id in increasing order.
#define HEARTH_EMBED_BACKWARD_PARAMS(F, A) F(u32, dy_off) F(u32, de_off) F(u32, n_ids) F(u32, d)
HEARTH_KERNEL_PARAMS(EmbedBackwardParams, HEARTH_EMBED_BACKWARD_PARAMS);

// cross_entropy.wgsl; the rows targets follow the struct (`ids`; 0xffffffff: ignored).
#define HEARTH_CROSS_ENTROPY_PARAMS(F, A) \
  F(u32, logits_off) F(u32, loss_off) F(u32, dl_off) F(u32, rows) F(u32, V) F(f32, grad_scale)
HEARTH_KERNEL_PARAMS(CrossEntropyParams, HEARTH_CROSS_ENTROPY_PARAMS);

// adamw.wgsl (the scalars of AdamWStep)
#define HEARTH_ADAMW_PARAMS(F, A)                                                                       \
  F(u32, p_off) F(u32, g_off) F(u32, m_off) F(u32, v_off) F(u32, n) F(f32, grad_scale) F(f32, decay)    \
  F(f32, beta1) F(f32, one_minus_beta1) F(f32, beta2) F(f32, one_minus_beta2) F(f32, step_size)         \
  F(f32, bias2_sqrt) F(f32, eps)
HEARTH_KERNEL_PARAMS(AdamwParams, HEARTH_ADAMW_PARAMS);

// sum_squares.wgsl: per_wg elements a workgroup into part (or out when one workgroup does all).
#define HEARTH_SUM_SQUARES_PARAMS(F, A) \
  F(u32, x_off) F(u32, n) F(u32, per_wg) F(u32, part_off) F(u32, out_off) F(u32, square)
HEARTH_KERNEL_PARAMS(SumSquaresParams, HEARTH_SUM_SQUARES_PARAMS);

// fill.wgsl
#define HEARTH_FILL_PARAMS(F, A) F(u32, x_off) F(u32, n) F(f32, value)
HEARTH_KERNEL_PARAMS(FillParams, HEARTH_FILL_PARAMS);

// attention_backward_delta.wgsl, attention_backward_dq.wgsl, attention_backward_dkdv.wgsl:
// rows = n_seq T; the scratch buffer aux holds [rows, H] log-sum-exps from aux_off and [rows, H]
// deltas (dout . out) from delta_off.
#define HEARTH_ATTN_BACKWARD_PARAMS(F, A)                                                              \
  F(u32, q_off) F(u32, k_off) F(u32, v_off) F(u32, o_off) F(u32, do_off) F(u32, lse_off) F(u32, dq_off) \
  F(u32, dk_off) F(u32, dv_off) F(u32, aux_off) F(u32, delta_off) F(u32, rows) F(u32, T) F(u32, H)     \
  F(u32, KV) F(u32, window) F(f32, scale)
HEARTH_KERNEL_PARAMS(AttentionBackwardParams, HEARTH_ATTN_BACKWARD_PARAMS);

// Which WGSL struct mirrors which C++ struct, for the layout test: the .wgsl file that
// declares it, the WGSL struct name, and the C++ layout.
struct ParamsMirror {
  const char* file;
  const char* wgsl_struct;
  std::string_view layout;
  const char* tail = "";  // WGSL members after the C++ ones: a runtime-sized array of ids
};
inline constexpr ParamsMirror kParamsMirrors[] = {
    {"weights_common", "WeightRef", WeightRef::kLayout},
    {"rmsnorm", "Params", RmsnormParams::kLayout},
    {"rmsnorm_subgroup", "Params", RmsnormParams::kLayout},
    {"elementwise", "Params", ElementwiseParams::kLayout},
    {"embed", "Params", EmbedParams::kLayout, "ids:array<u32>,"},
    {"rope", "Params", RopeParams::kLayout},
    {"attention_decode_splitk", "Params", AttentionDecodeParams::kLayout},
    {"attention_combine", "Params", AttentionCombineParams::kLayout},
    {"attention_prefill", "Params", AttentionPrefillParams::kLayout},
    {"attention_prefill_sg", "Params", AttentionPrefillParams::kLayout},
    {"matmul_tiled", "Params", TiledParams::kLayout},
    {"dequant", "Params", DequantParams::kLayout},
    {"q8_0_roundtrip", "Params", Q8RoundtripParams::kLayout},
    {"matvec_common", "MatvecMat", MatvecMat::kLayout},
    {"matvec_common", "MatvecLora", MatvecLora::kLayout},
    {"matvec_common", "Params", MatvecParams::kLayout},
    {"argmax", "Params", ArgmaxParams::kLayout},
    {"sample_common", "Params", SampleParams::kLayout},
    {"quantize_int4", "Params", QuantizeInt4Params::kLayout},
    {"quantize_int8", "Params", QuantizeInt8Params::kLayout},
    {"matmul_train", "Params", MatmulTrainParams::kLayout},
    {"split_sum", "Params", SplitSumParams::kLayout},
    {"colsum", "Params", ColsumParams::kLayout},
    {"rmsnorm_backward", "Params", RmsnormBackwardParams::kLayout},
    {"rope_train", "Params", RopeTrainParams::kLayout},
    {"swiglu_backward", "Params", SwigluBackwardParams::kLayout},
    {"embed_rows", "Params", EmbedRowsParams::kLayout, "ids:array<u32>,"},
    {"embed_backward", "Params", EmbedBackwardParams::kLayout, "ids:array<u32>,"},
    {"cross_entropy", "Params", CrossEntropyParams::kLayout, "ids:array<u32>,"},
    {"adamw", "Params", AdamwParams::kLayout},
    {"sum_squares", "Params", SumSquaresParams::kLayout},
    {"fill", "Params", FillParams::kLayout},
    {"attention_backward_delta", "Params", AttentionBackwardParams::kLayout},
    {"attention_backward_dq", "Params", AttentionBackwardParams::kLayout},
    {"attention_backward_dkdv", "Params", AttentionBackwardParams::kLayout},
};

}  // namespace hearth::webgpu
