// The max of a window's rows (pool_nhwc.h), AVX-512: 64 channels (four vectors) a pass so the
// loads of one row overlap, then 16 at a time, the tail under a mask.
#include <immintrin.h>

#include <cfloat>

#include "pool_nhwc.h"

namespace resnode::cpu {

void f32_maxpool__avx512f(const float* const* rows, size_t nrows, size_t channels, float* out) {
  const __m512 lowest = _mm512_set1_ps(-FLT_MAX);
  size_t c = 0;
  // max(v, acc) returns acc when v is NaN: the scalar `v > m ? v : m`.
  for (; c + 64 <= channels; c += 64) {
    __m512 a0 = lowest, a1 = lowest, a2 = lowest, a3 = lowest;
    for (size_t r = 0; r < nrows; ++r) {
      const float* p = rows[r] + c;
      a0 = _mm512_max_ps(_mm512_loadu_ps(p), a0);
      a1 = _mm512_max_ps(_mm512_loadu_ps(p + 16), a1);
      a2 = _mm512_max_ps(_mm512_loadu_ps(p + 32), a2);
      a3 = _mm512_max_ps(_mm512_loadu_ps(p + 48), a3);
    }
    _mm512_storeu_ps(out + c, a0);
    _mm512_storeu_ps(out + c + 16, a1);
    _mm512_storeu_ps(out + c + 32, a2);
    _mm512_storeu_ps(out + c + 48, a3);
  }
  for (; c < channels; c += 16) {
    const size_t left = channels - c;
    const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    __m512 a = lowest;
    for (size_t r = 0; r < nrows; ++r) a = _mm512_max_ps(_mm512_maskz_loadu_ps(m, rows[r] + c), a);
    _mm512_mask_storeu_ps(out + c, m, a);
  }
}

}  // namespace resnode::cpu
