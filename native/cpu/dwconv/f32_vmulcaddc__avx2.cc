// The per-channel affine of one plane (dwconv.h), AVX2 + FMA: 8 floats a
// vector, the tail masked.
#include "dwconv_avx2.h"

namespace resnode::cpu {

void f32_vmulcaddc__avx2(const float* x, size_t n, float scale, float bias,
                         const float* residual, float lo, float hi, float* y) {
  const __m256 s = _mm256_set1_ps(scale), b = _mm256_set1_ps(bias);
  const __m256 l = _mm256_set1_ps(lo), h = _mm256_set1_ps(hi);
  for (size_t i = 0; i < n; i += 8) {
    const __m256i m = dwconv_tail_mask_avx2(n - i);
    __m256 v = _mm256_fmadd_ps(_mm256_maskload_ps(x + i, m), s, b);
    if (residual) v = _mm256_add_ps(v, _mm256_maskload_ps(residual + i, m));
    // max(lo, v) and min(hi, v) return v when v is NaN, as the scalar epilogue does.
    v = _mm256_min_ps(h, _mm256_max_ps(l, v));
    _mm256_maskstore_ps(y + i, m, v);
  }
}

}  // namespace resnode::cpu
