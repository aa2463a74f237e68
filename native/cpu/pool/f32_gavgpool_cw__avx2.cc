// The plane sum of the global average pool (gavgpool.h), AVX2: 8 floats a
// vector, four accumulators, the tail masked.
#include <immintrin.h>

#include "gavgpool.h"

namespace resnode::cpu {

float f32_gavgpool_cw__avx2(const float* x, size_t n) {
  // Four accumulators hide the add latency on large planes (56x56).
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; ++k) acc[k] = _mm256_add_ps(acc[k], _mm256_loadu_ps(x + i + 8 * k));
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (; i < n; i += 8) {
    const size_t left = n - i;
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(left < 8 ? left : 8)), lane);
    acc[0] = _mm256_add_ps(acc[0], _mm256_maskload_ps(x + i, m));
  }
  const __m256 s8 = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

}  // namespace resnode::cpu
