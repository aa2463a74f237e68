// The depthwise row kernel (dwconv.h) for AVX-512: 16 output columns per
// vector, up to 4 vectors in flight so that the K*K dependent FMAs of one
// accumulator overlap. Included only by the f32_dwconv_*__avx512f.cc files.
#pragma once
#include <immintrin.h>

#include "dwconv.h"

namespace resnode::cpu {

template <int K, int S, int U>
inline void dwconv_block_avx512f(const float* const* rows, size_t phase, const float* w,
                                 __m512 bias, const float* residual, __m512 lo, __m512 hi,
                                 size_t x, size_t out_w, float* y) {
  __m512 acc[U];
  for (int u = 0; u < U; ++u) acc[u] = bias;
  for (int ky = 0; ky < K; ++ky) {
    const float* r = rows[ky];
    for (int kx = 0; kx < K; ++kx) {
      const __m512 wv = _mm512_set1_ps(w[ky * K + kx]);
      const float* p = S == 1 ? r + x + kx : r + (kx & 1) * phase + x + kx / 2;
      for (int u = 0; u < U; ++u) acc[u] = _mm512_fmadd_ps(_mm512_loadu_ps(p + 16 * u), wv, acc[u]);
    }
  }
  for (int u = 0; u < U; ++u) {
    const size_t x0 = x + 16 * size_t(u);
    if (x0 >= out_w) break;
    const size_t n = out_w - x0;
    const __mmask16 m = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
    __m512 v = acc[u];
    if (residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, residual + x0));
    // max(lo, v) and min(hi, v) return v when v is NaN, as the scalar epilogue does.
    v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
    _mm512_mask_storeu_ps(y + x0, m, v);
  }
}

template <int K, int S>
inline void dwconv_row_avx512f(const float* const* rows, size_t phase, const float* w,
                               float bias, const float* residual, float lo, float hi,
                               size_t out_w, float* y) {
  const __m512 b = _mm512_set1_ps(bias), l = _mm512_set1_ps(lo), h = _mm512_set1_ps(hi);
  size_t x = 0;
  for (; x + 32 < out_w; x += 64) dwconv_block_avx512f<K, S, 4>(rows, phase, w, b, residual, l, h, x, out_w, y);
  for (; x < out_w; x += 16) dwconv_block_avx512f<K, S, 1>(rows, phase, w, b, residual, l, h, x, out_w, y);
}

}  // namespace resnode::cpu
