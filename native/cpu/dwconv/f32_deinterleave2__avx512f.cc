// Splits pairs into even and odd columns, avx512f: the stride-2 depthwise
// driver's copy of each input row into its two phases (dwconv.h).
#include <immintrin.h>

#include <algorithm>

#include "dwconv.h"

namespace resnode::cpu {

void f32_deinterleave2__avx512f(const float* src, size_t pairs, float* even, float* odd) {
  const __m512i ie = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i io = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  size_t j = 0;
  for (; j + 16 <= pairs; j += 16) {
    const __m512 a = _mm512_loadu_ps(src + 2 * j), b = _mm512_loadu_ps(src + 2 * j + 16);
    _mm512_storeu_ps(even + j, _mm512_permutex2var_ps(a, ie, b));
    _mm512_storeu_ps(odd + j, _mm512_permutex2var_ps(a, io, b));
  }
  if (j < pairs) {  // the last 1..15 pairs: masked loads of their 2..30 floats, masked stores
    const size_t n = pairs - j, lo = std::min<size_t>(2 * n, 16), hi = 2 * n - lo;
    const __m512 a = _mm512_maskz_loadu_ps(__mmask16((1u << lo) - 1), src + 2 * j);
    const __m512 b = _mm512_maskz_loadu_ps(__mmask16((1u << hi) - 1), src + 2 * j + 16);
    const __mmask16 m = __mmask16((1u << n) - 1);
    _mm512_mask_storeu_ps(even + j, m, _mm512_permutex2var_ps(a, ie, b));
    _mm512_mask_storeu_ps(odd + j, m, _mm512_permutex2var_ps(a, io, b));
  }
}

}  // namespace resnode::cpu
