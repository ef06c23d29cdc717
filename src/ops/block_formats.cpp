// Q8_0 / Q4_0 matrices: conversions between ggml's interleaved blocks (scale, then quants) and
// QMatrix's split layout (quants of a row back to back, scales apart).
#include "ops/block_formats.h"

#include <cstring>
#include <functional>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "formats/ggml_quants.h"

namespace hearth {

namespace {
constexpr int64_t kB = QMatrix::kBlock;
}  // namespace

int64_t block_row_bytes(WeightFormat f, int64_t cols) {
  return cols / kB * (f == WeightFormat::Q8_0 ? kQ8_0Bytes : kQ4_0Bytes);
}

QMatrix make_block_matrix(WeightFormat f, int64_t rows, int64_t cols) {
  QMatrix m;
  m.format = f;
  m.rows = rows;
  m.cols = cols;
  if (f == WeightFormat::Q8_0) {
    m.q8.resize(size_t(rows * cols));
  } else {
    m.nib.resize(size_t(rows * cols / 2));
  }
  m.d16.resize(size_t(rows * (cols / kB)));
  return m;
}

void set_block_rows(QMatrix& m, int64_t r0, int64_t n, const uint8_t* blocks) {
  const int64_t nb = m.blocks_per_row();
  const bool q8 = m.format == WeightFormat::Q8_0;
  const int64_t bb = q8 ? kQ8_0Bytes : kQ4_0Bytes;
  for (int64_t i = 0; i < n * nb; ++i) {
    const uint8_t* b = blocks + i * bb;
    const int64_t at = r0 * nb + i;  // block index in the matrix
    std::memcpy(&m.d16[size_t(at)], b, 2);
    if (q8) {
      std::memcpy(m.q8.data() + at * kB, b + 2, kB);
    } else {
      std::memcpy(m.nib.data() + at * (kB / 2), b + 2, kB / 2);
    }
  }
}

void get_block_row(const QMatrix& m, int64_t r, uint8_t* out) {
  const int64_t nb = m.blocks_per_row();
  const bool q8 = m.format == WeightFormat::Q8_0;
  const int64_t bb = q8 ? kQ8_0Bytes : kQ4_0Bytes;
  for (int64_t i = 0; i < nb; ++i) {
    uint8_t* b = out + i * bb;
    const int64_t at = r * nb + i;
    std::memcpy(b, &m.d16[size_t(at)], 2);
    if (q8) {
      std::memcpy(b + 2, m.q8.data() + at * kB, kB);
    } else {
      std::memcpy(b + 2, m.nib.data() + at * (kB / 2), kB / 2);
    }
  }
}

void dequant_block_row(const QMatrix& m, int64_t r, float* out) {
  const int64_t nb = m.blocks_per_row();
  for (int64_t i = 0; i < nb; ++i) {
    const int64_t at = r * nb + i;
    const float d = f16_to_f32(m.d16[size_t(at)]);
    float* y = out + i * kB;
    if (m.format == WeightFormat::Q8_0) {
      for (int64_t j = 0; j < kB; ++j) y[j] = float(m.q8[size_t(at * kB + j)]) * d;
    } else {
      const uint8_t* q = m.nib.data() + at * (kB / 2);
      for (int j = 0; j < 16; ++j) {
        y[j] = float((q[j] & 15) - 8) * d;
        y[j + 16] = float((q[j] >> 4) - 8) * d;
      }
    }
  }
}

void quantize_block_matrix(std::span<const float> w, QMatrix& m, ThreadPool* pool) {
  m = make_block_matrix(m.format, m.rows, m.cols);
  const int64_t rb = block_row_bytes(m.format, m.cols);
  auto rows = [&](int64_t b, int64_t e) {
    std::vector<uint8_t> blocks(static_cast<size_t>(rb));
    for (int64_t r = b; r < e; ++r) {
      const float* x = w.data() + r * m.cols;
      if (m.format == WeightFormat::Q8_0) {
        quantize_row_q8_0(x, m.cols, blocks.data());
      } else {
        quantize_row_q4_0(x, m.cols, blocks.data());
      }
      set_block_rows(m, r, 1, blocks.data());
    }
  };
  if (pool) pool->parallel_for(m.rows, 1, rows); else rows(0, m.rows);
}

void quantize_rows_q8_0(const float* x, int64_t T, int64_t n, QuantizedRows& out) {
  const int64_t nb = n / kB;
  out.q.resize(size_t(T * n));
  out.d.resize(size_t(T * nb));
  for (int64_t i = 0; i < T * nb; ++i) {
    uint16_t d16;
    quantize_block_q8_0(x + i * kB, out.q.data() + i * kB, &d16);
    out.d[size_t(i)] = f16_to_f32(d16);
  }
}

}  // namespace hearth
