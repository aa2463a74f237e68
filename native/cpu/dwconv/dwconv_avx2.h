// The depthwise row kernel (dwconv.h) for AVX2 + FMA: 8 output columns per
// vector, up to 4 vectors in flight. Included only by the
// f32_dwconv_*__avx2.cc files.
#pragma once
#include <immintrin.h>

#include "dwconv.h"

namespace resnode::cpu {

inline __m256i dwconv_tail_mask_avx2(size_t n) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n < 8 ? n : 8)), lane);
}

template <int K, int S, int U>
inline void dwconv_block_avx2(const float* const* rows, size_t phase, const float* w, __m256 bias,
                              const float* residual, __m256 lo, __m256 hi, size_t x,
                              size_t out_w, float* y) {
  __m256 acc[U];
  for (int u = 0; u < U; ++u) acc[u] = bias;
  for (int ky = 0; ky < K; ++ky) {
    const float* r = rows[ky];
    for (int kx = 0; kx < K; ++kx) {
      const __m256 wv = _mm256_broadcast_ss(w + ky * K + kx);
      const float* p = S == 1 ? r + x + kx : r + (kx & 1) * phase + x + kx / 2;
      for (int u = 0; u < U; ++u) acc[u] = _mm256_fmadd_ps(_mm256_loadu_ps(p + 8 * u), wv, acc[u]);
    }
  }
  for (int u = 0; u < U; ++u) {
    const size_t x0 = x + 8 * size_t(u);
    if (x0 >= out_w) break;
    const __m256i m = dwconv_tail_mask_avx2(out_w - x0);
    __m256 v = acc[u];
    if (residual) v = _mm256_add_ps(v, _mm256_maskload_ps(residual + x0, m));
    // max(lo, v) and min(hi, v) return v when v is NaN, as the scalar epilogue does.
    v = _mm256_min_ps(hi, _mm256_max_ps(lo, v));
    _mm256_maskstore_ps(y + x0, m, v);
  }
}

template <int K, int S>
inline void dwconv_row_avx2(const float* const* rows, size_t phase, const float* w, float bias,
                            const float* residual, float lo, float hi, size_t out_w, float* y) {
  const __m256 b = _mm256_set1_ps(bias), l = _mm256_set1_ps(lo), h = _mm256_set1_ps(hi);
  size_t x = 0;
  for (; x + 16 < out_w; x += 32) dwconv_block_avx2<K, S, 4>(rows, phase, w, b, residual, l, h, x, out_w, y);
  for (; x < out_w; x += 8) dwconv_block_avx2<K, S, 1>(rows, phase, w, b, residual, l, h, x, out_w, y);
}

}  // namespace resnode::cpu
