// The max- and average-pooling row passes (pool_rows.h) with AVX-512, 16 columns at a time.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include <immintrin.h>

#include <cfloat>

#include "pool_rows.h"

namespace resnode::cpu {

void max_pool_vmax__avx512f(const float* const* rows, size_t nrows, size_t w, float* t) {
  const __m512 lowest = _mm512_set1_ps(-FLT_MAX);
  for (size_t i = 0; i < w; i += 16) {
    const __mmask16 m = w - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (w - i)) - 1);
    __m512 acc = lowest;
    // max(v, acc) returns acc when v is NaN: the scalar `v > m ? v : m`.
    for (size_t r = 0; r < nrows; ++r) acc = _mm512_max_ps(_mm512_maskz_loadu_ps(m, rows[r] + i), acc);
    _mm512_mask_storeu_ps(t + i, m, acc);
  }
}

// Columns p[j * sw] of t for the n (<= 16) outputs j of mask m, sw 1 or 2. For
// sw 2: columns 2j and 2j+1 of 2n; load only the even ones that exist (2n - 1
// floats), then keep the even lanes.
static inline __m512 strided_columns(const float* p, int64_t sw, size_t n, __mmask16 m) {
  if (sw == 1) return _mm512_maskz_loadu_ps(m, p);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const uint32_t need = uint32_t(2 * n - 1);
  const __mmask16 lo = need >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << need) - 1);
  const __mmask16 hi = need > 16 ? __mmask16((1u << (need - 16)) - 1) : __mmask16(0);
  return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(lo, p), even, _mm512_maskz_loadu_ps(hi, p + 16));
}

void max_pool_hmax__avx512f(const float* t, int64_t ix0, int64_t kw, int64_t dw, int64_t sw,
                            size_t count, float* out) {
  if (sw > 2) return max_pool_hmax(t, ix0, kw, dw, sw, count, out);
  const __m512 lowest = _mm512_set1_ps(-FLT_MAX);
  for (size_t j = 0; j < count; j += 16) {
    const size_t n = count - j < 16 ? count - j : 16;
    const __mmask16 m = n == 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
    __m512 acc = lowest;
    for (int64_t kx = 0; kx < kw; ++kx)
      acc = _mm512_max_ps(strided_columns(t + ix0 + int64_t(j) * sw + kx * dw, sw, n, m), acc);
    _mm512_mask_storeu_ps(out + j, m, acc);
  }
}

void avg_pool_vsum__avx512f(const float* const* rows, size_t nrows, size_t w, float* t) {
  for (size_t i = 0; i < w; i += 16) {
    const __mmask16 m = w - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (w - i)) - 1);
    __m512 acc = _mm512_setzero_ps();
    for (size_t r = 0; r < nrows; ++r) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, rows[r] + i));
    _mm512_mask_storeu_ps(t + i, m, acc);
  }
}

void avg_pool_hsum__avx512f(const float* t, int64_t ix0, int64_t kw, int64_t dw, int64_t sw, float div,
                            size_t count, float* out) {
  if (sw > 2) return avg_pool_hsum(t, ix0, kw, dw, sw, div, count, out);
  const __m512 d = _mm512_set1_ps(div);
  for (size_t j = 0; j < count; j += 16) {
    const size_t n = count - j < 16 ? count - j : 16;
    const __mmask16 m = n == 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t kx = 0; kx < kw; ++kx)
      acc = _mm512_add_ps(acc, strided_columns(t + ix0 + int64_t(j) * sw + kx * dw, sw, n, m));
    _mm512_mask_storeu_ps(out + j, m, _mm512_div_ps(acc, d));
  }
}

}  // namespace resnode::cpu
