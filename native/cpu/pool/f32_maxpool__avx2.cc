// The max of a window's rows (pool_nhwc.h), AVX2: 32 channels (four vectors) a pass, then 8 at a
// time, the tail under a lane mask.
#include <immintrin.h>

#include <cfloat>

#include "pool_nhwc.h"

namespace resnode::cpu {

void f32_maxpool__avx2(const float* const* rows, size_t nrows, size_t channels, float* out) {
  const __m256 lowest = _mm256_set1_ps(-FLT_MAX);
  size_t c = 0;
  // max(v, acc) returns acc when v is NaN: the scalar `v > m ? v : m`.
  for (; c + 32 <= channels; c += 32) {
    __m256 a0 = lowest, a1 = lowest, a2 = lowest, a3 = lowest;
    for (size_t r = 0; r < nrows; ++r) {
      const float* p = rows[r] + c;
      a0 = _mm256_max_ps(_mm256_loadu_ps(p), a0);
      a1 = _mm256_max_ps(_mm256_loadu_ps(p + 8), a1);
      a2 = _mm256_max_ps(_mm256_loadu_ps(p + 16), a2);
      a3 = _mm256_max_ps(_mm256_loadu_ps(p + 24), a3);
    }
    _mm256_storeu_ps(out + c, a0);
    _mm256_storeu_ps(out + c + 8, a1);
    _mm256_storeu_ps(out + c + 16, a2);
    _mm256_storeu_ps(out + c + 24, a3);
  }
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (; c < channels; c += 8) {
    const size_t left = channels - c;
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(left < 8 ? left : 8)), lane);
    __m256 a = lowest;
    for (size_t r = 0; r < nrows; ++r) a = _mm256_max_ps(_mm256_maskload_ps(rows[r] + c, m), a);
    _mm256_maskstore_ps(out + c, m, a);
  }
}

}  // namespace resnode::cpu
