// The scaled sum of a window's rows (pool_nhwc.h), AVX-512: 64 channels (four vectors) a pass,
// then 16 at a time, the tail under a mask.
#include <immintrin.h>

#include "pool_nhwc.h"

namespace resnode::cpu {

void f32_avgpool__avx512f(const float* const* rows, size_t nrows, size_t channels, float scale, float* out) {
  const __m512 k = _mm512_set1_ps(scale);
  size_t c = 0;
  for (; c + 64 <= channels; c += 64) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    for (size_t r = 0; r < nrows; ++r) {
      const float* p = rows[r] + c;
      a0 = _mm512_add_ps(a0, _mm512_loadu_ps(p));
      a1 = _mm512_add_ps(a1, _mm512_loadu_ps(p + 16));
      a2 = _mm512_add_ps(a2, _mm512_loadu_ps(p + 32));
      a3 = _mm512_add_ps(a3, _mm512_loadu_ps(p + 48));
    }
    _mm512_storeu_ps(out + c, _mm512_mul_ps(a0, k));
    _mm512_storeu_ps(out + c + 16, _mm512_mul_ps(a1, k));
    _mm512_storeu_ps(out + c + 32, _mm512_mul_ps(a2, k));
    _mm512_storeu_ps(out + c + 48, _mm512_mul_ps(a3, k));
  }
  for (; c < channels; c += 16) {
    const size_t left = channels - c;
    const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    __m512 a = _mm512_setzero_ps();
    for (size_t r = 0; r < nrows; ++r) a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(m, rows[r] + c));
    _mm512_mask_storeu_ps(out + c, m, _mm512_mul_ps(a, k));
  }
}

}  // namespace resnode::cpu
