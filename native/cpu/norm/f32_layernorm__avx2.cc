// One LayerNormalization row (layernorm.h), AVX2 + FMA: 8 floats a vector,
// the tail masked; float32 sums in four accumulators, the variance from the
// centred values, so no cancellation.
#include <immintrin.h>

#include <cmath>

#include "layernorm.h"

namespace resnode::cpu {
namespace {
inline __m256i tail(size_t left) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(left < 8 ? left : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline float hsum(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 s8 = _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d));
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}
}  // namespace

void f32_layernorm__avx2(const float* x, const float* scale, const float* bias, float* y, size_t n,
                         float epsilon) {
  __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; ++k) s[k] = _mm256_add_ps(s[k], _mm256_loadu_ps(x + i + 8 * k));
  for (; i < n; i += 8) s[0] = _mm256_add_ps(s[0], _mm256_maskload_ps(x + i, tail(n - i)));
  const float mean = hsum(s[0], s[1], s[2], s[3]) / float(n);
  const __m256 m = _mm256_set1_ps(mean);
  __m256 v[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (i = 0; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; ++k) {
      const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8 * k), m);
      v[k] = _mm256_fmadd_ps(d, d, v[k]);
    }
  for (; i < n; i += 8) {
    const __m256i t = tail(n - i);
    // Masked-off lanes load 0; zero their difference too.
    const __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, t), m), _mm256_castsi256_ps(t));
    v[0] = _mm256_fmadd_ps(d, d, v[0]);
  }
  const float var = hsum(v[0], v[1], v[2], v[3]) / float(n);
  const __m256 inv = _mm256_set1_ps(1.0f / std::sqrt(var + epsilon));
  for (i = 0; i < n; i += 8) {
    const __m256i t = tail(n - i);
    const __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, t), m), inv);
    const __m256 b = bias ? _mm256_maskload_ps(bias + i, t) : _mm256_setzero_ps();
    _mm256_maskstore_ps(y + i, t, _mm256_fmadd_ps(d, _mm256_maskload_ps(scale + i, t), b));
  }
}

}  // namespace resnode::cpu
