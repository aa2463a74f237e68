// The scaled sum of a window's rows (pool_nhwc.h), AVX2: 32 channels (four vectors) a pass, then
// 8 at a time, the tail under a lane mask.
#include <immintrin.h>

#include "pool_nhwc.h"

namespace resnode::cpu {

void f32_avgpool__avx2(const float* const* rows, size_t nrows, size_t channels, float scale, float* out) {
  const __m256 k = _mm256_set1_ps(scale);
  size_t c = 0;
  for (; c + 32 <= channels; c += 32) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (size_t r = 0; r < nrows; ++r) {
      const float* p = rows[r] + c;
      a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p));
      a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + 8));
      a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + 16));
      a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + 24));
    }
    _mm256_storeu_ps(out + c, _mm256_mul_ps(a0, k));
    _mm256_storeu_ps(out + c + 8, _mm256_mul_ps(a1, k));
    _mm256_storeu_ps(out + c + 16, _mm256_mul_ps(a2, k));
    _mm256_storeu_ps(out + c + 24, _mm256_mul_ps(a3, k));
  }
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (; c < channels; c += 8) {
    const size_t left = channels - c;
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(left < 8 ? left : 8)), lane);
    __m256 a = _mm256_setzero_ps();
    for (size_t r = 0; r < nrows; ++r) a = _mm256_add_ps(a, _mm256_maskload_ps(rows[r] + c, m));
    _mm256_maskstore_ps(out + c, m, _mm256_mul_ps(a, k));
  }
}

}  // namespace resnode::cpu
