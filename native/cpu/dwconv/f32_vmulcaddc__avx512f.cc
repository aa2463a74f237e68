// The per-channel affine of one plane (dwconv.h), AVX-512: 16 floats a vector,
// two in flight, the tail masked.
#include <immintrin.h>

#include "dwconv.h"

namespace resnode::cpu {

void f32_vmulcaddc__avx512f(const float* x, size_t n, float scale, float bias,
                            const float* residual, float lo, float hi, float* y) {
  const __m512 s = _mm512_set1_ps(scale), b = _mm512_set1_ps(bias);
  const __m512 l = _mm512_set1_ps(lo), h = _mm512_set1_ps(hi);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), s, b);
    if (residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, residual + i));
    // max(lo, v) and min(hi, v) return v when v is NaN, as the scalar epilogue does.
    v = _mm512_min_ps(h, _mm512_max_ps(l, v));
    _mm512_mask_storeu_ps(y + i, m, v);
  }
}

}  // namespace resnode::cpu
