// Splits pairs into even and odd columns, avx2: the stride-2 depthwise
// driver's copy of each input row into its two phases (dwconv.h).
#include <immintrin.h>

#include "dwconv.h"

namespace resnode::cpu {

void f32_deinterleave2__avx2(const float* src, size_t pairs, float* even, float* odd) {
  size_t j = 0;
  for (; j + 8 <= pairs; j += 8) {
    const __m256 a = _mm256_loadu_ps(src + 2 * j), b = _mm256_loadu_ps(src + 2 * j + 8);
    // Within each 128-bit lane: a0 a2 b0 b2 | a4 a6 b4 b6 (even), then fix the lane order.
    const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    _mm256_storeu_ps(even + j, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0))));
    _mm256_storeu_ps(odd + j, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0))));
  }
  for (; j < pairs; ++j) {
    even[j] = src[2 * j];
    odd[j] = src[2 * j + 1];
  }
}

}  // namespace resnode::cpu
