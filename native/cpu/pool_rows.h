// Max and average pooling as two row passes, so that each pass is a plain
// vector loop: a vertical max (sum) over the window's rows, then a horizontal
// max (sum) over its columns (at the pooling stride). One implementation per
// ISA, chosen once.
#pragma once
#include <cstddef>
#include <cstdint>

namespace resnode::cpu {

struct MaxPoolRowKernels {
  // t[i] = max(-FLT_MAX, rows[0][i], ..., rows[nrows - 1][i]) for i < w, NaN
  // skipped (the max keeps its accumulator when the new value is unordered).
  void (*vmax)(const float* const* rows, size_t nrows, size_t w, float* t);
  // out[j] = max(-FLT_MAX, t[ix0 + j * sw + kx * dw] for kx < kw) for
  // j < count; every index is in bounds.
  void (*hmax)(const float* t, int64_t ix0, int64_t kw, int64_t dw, int64_t sw, size_t count,
               float* out);
};

struct AvgPoolRowKernels {
  // t[i] = rows[0][i] + ... + rows[nrows - 1][i] for i < w (0 when nrows is 0).
  void (*vsum)(const float* const* rows, size_t nrows, size_t w, float* t);
  // out[j] = (t[ix0 + j * sw + kx * dw] summed over kx < kw) / div for
  // j < count; every index is in bounds.
  void (*hsum)(const float* t, int64_t ix0, int64_t kw, int64_t dw, int64_t sw, float div,
               size_t count, float* out);
};

void avg_pool_vsum(const float* const* rows, size_t nrows, size_t w, float* t);
void avg_pool_hsum(const float* t, int64_t ix0, int64_t kw, int64_t dw, int64_t sw, float div,
                   size_t count, float* out);
void avg_pool_vsum__avx512f(const float* const* rows, size_t nrows, size_t w, float* t);
void avg_pool_hsum__avx512f(const float* t, int64_t ix0, int64_t kw, int64_t dw, int64_t sw, float div,
                            size_t count, float* out);
void max_pool_vmax(const float* const* rows, size_t nrows, size_t w, float* t);
void max_pool_hmax(const float* t, int64_t ix0, int64_t kw, int64_t dw, int64_t sw,
                   size_t count, float* out);
void max_pool_vmax__avx512f(const float* const* rows, size_t nrows, size_t w, float* t);
void max_pool_hmax__avx512f(const float* t, int64_t ix0, int64_t kw, int64_t dw, int64_t sw,
                            size_t count, float* out);

}  // namespace resnode::cpu
