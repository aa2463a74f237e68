// Max pooling as two row passes, so that each pass is a plain vector loop:
// a vertical max over the window's rows, then a horizontal max over its
// columns (at the pooling stride). One implementation per ISA, chosen once.
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

void max_pool_vmax(const float* const* rows, size_t nrows, size_t w, float* t);
void max_pool_hmax(const float* t, int64_t ix0, int64_t kw, int64_t dw, int64_t sw,
                   size_t count, float* out);
void max_pool_vmax__avx512f(const float* const* rows, size_t nrows, size_t w, float* t);
void max_pool_hmax__avx512f(const float* t, int64_t ix0, int64_t kw, int64_t dw, int64_t sw,
                            size_t count, float* out);

}  // namespace resnode::cpu
