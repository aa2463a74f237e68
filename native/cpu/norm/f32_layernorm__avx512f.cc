// One LayerNormalization row (layernorm.h), AVX-512: 16 floats a vector, the
// tail masked; float32 sums in four accumulators (rows are a few hundred to a
// few thousand floats: ConvNeXt's channels), the variance from the centred
// values, so no cancellation.
#include <immintrin.h>

#include <cmath>

#include "layernorm.h"

namespace resnode::cpu {
namespace {
inline __mmask16 tail(size_t left) { return left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1); }
}  // namespace

void f32_layernorm__avx512f(const float* x, const float* scale, const float* bias, float* y, size_t n,
                            float epsilon) {
  __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  size_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int k = 0; k < 4; ++k) s[k] = _mm512_add_ps(s[k], _mm512_loadu_ps(x + i + 16 * k));
  for (; i < n; i += 16) s[0] = _mm512_add_ps(s[0], _mm512_maskz_loadu_ps(tail(n - i), x + i));
  const float mean = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s[0], s[1]), _mm512_add_ps(s[2], s[3]))) / float(n);
  const __m512 m = _mm512_set1_ps(mean);
  __m512 v[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (i = 0; i + 64 <= n; i += 64)
    for (int k = 0; k < 4; ++k) {
      const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16 * k), m);
      v[k] = _mm512_fmadd_ps(d, d, v[k]);
    }
  for (; i < n; i += 16) {
    const __mmask16 t = tail(n - i);
    const __m512 d = _mm512_maskz_sub_ps(t, _mm512_maskz_loadu_ps(t, x + i), m);
    v[0] = _mm512_fmadd_ps(d, d, v[0]);
  }
  const float var = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(v[0], v[1]), _mm512_add_ps(v[2], v[3]))) / float(n);
  const __m512 inv = _mm512_set1_ps(1.0f / std::sqrt(var + epsilon));
  for (i = 0; i < n; i += 16) {
    const __mmask16 t = tail(n - i);
    const __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(t, x + i), m), inv);
    const __m512 b = bias ? _mm512_maskz_loadu_ps(t, bias + i) : _mm512_setzero_ps();
    _mm512_mask_storeu_ps(y + i, t, _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(t, scale + i), b));
  }
}

}  // namespace resnode::cpu
