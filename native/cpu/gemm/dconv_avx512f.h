// The AVX-512 direct-convolution micro-kernel body (see dconv.h) shared by
// f32_dconv_*__avx512f.cc. Include only from files compiled with the AVX-512 flags.
#pragma once
#include <immintrin.h>

#include <algorithm>

#include "dconv.h"

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace resnode::cpu {
namespace {

constexpr size_t kDconvPrefetchW = 1024;  // floats ahead in the weight panel (4 KB)

// In-register 16 x 16 transpose: r[i] lane j becomes r[j] lane i.
inline __attribute__((always_inline)) void transpose16x16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
}

// SPLIT: pixels [0, SPLIT) are row A, [SPLIT, 14) row B (SPLIT = 14: one row).
// S: the pixel stride (0: t.stride_w at run time).
template <int SPLIT, int S>
inline __attribute__((always_inline)) void dconv_avx512f(size_t channels, size_t taps,
                                                         const float* w, const DconvTile& t) {
  constexpr int NP = 14;
  __m512 acc[NP][2];
#pragma GCC unroll 14
  for (int p = 0; p < NP; ++p) acc[p][0] = acc[p][1] = _mm512_setzero_ps();
  // The output tile (32 channel rows, and the residual's) is written only
  // after the K loop and is rarely in L1/L2 (in a model it was written layers
  // ago): start fetching it now, as the GEMM kernels do.
  for (int i = 0; i < t.rows; ++i) {
    const size_t o = size_t(i) * t.ld;
    _mm_prefetch(reinterpret_cast<const char*>(t.ya + o), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(t.ya + o + t.na - 1), _MM_HINT_T0);
    if (t.residual_a) {
      _mm_prefetch(reinterpret_cast<const char*>(t.residual_a + o), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(t.residual_a + o + t.na - 1), _MM_HINT_T0);
    }
    if (SPLIT < NP && t.nb) {
      _mm_prefetch(reinterpret_cast<const char*>(t.yb + o), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(t.yb + o + t.nb - 1), _MM_HINT_T0);
      if (t.residual_b) {
        _mm_prefetch(reinterpret_cast<const char*>(t.residual_b + o), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(t.residual_b + o + t.nb - 1), _MM_HINT_T0);
      }
    }
  }
  const size_t sw = S ? size_t(S) : t.stride_w;
  const float* xa = t.xa;
  const float* xb = SPLIT < NP ? t.xb : t.xa;
  for (size_t c = 0; c < channels; ++c) {
    if (t.prefetch)
      for (size_t f = 0; f < t.prefetch_per_channel; f += 16)
        _mm_prefetch(reinterpret_cast<const char*>(t.prefetch + c * t.prefetch_per_channel + f), _MM_HINT_T1);
    for (size_t k = 0; k < taps; ++k) {
      // The weights stream from L2 or L3 (two cache lines per tap): fetch them ahead.
      _mm_prefetch(reinterpret_cast<const char*>(w + kDconvPrefetchW), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(w + kDconvPrefetchW + 16), _MM_HINT_T0);
      const __m512 w0 = _mm512_load_ps(w), w1 = _mm512_load_ps(w + 16);
      const float* pa = xa + t.tap_offset[k];
      const float* pb = xb + t.tap_offset[k];
#pragma GCC unroll 14
      for (int p = 0; p < NP; ++p) {
        const __m512 x = _mm512_set1_ps(p < SPLIT ? pa[size_t(p) * sw] : pb[size_t(p - SPLIT) * sw]);
        acc[p][0] = _mm512_fmadd_ps(x, w0, acc[p][0]);
        acc[p][1] = _mm512_fmadd_ps(x, w1, acc[p][1]);
      }
      w += 32;
    }
    xa += t.channel_stride;
    xb += t.channel_stride;
  }

  // Store: transpose the pixel-major accumulators (16 channels at a time) to
  // channel rows of NCHW in registers (a gather per channel was measured at
  // half of the 7x7 stem's time).
  const __mmask16 ma = __mmask16((1u << t.na) - 1);
  const __mmask16 mb = SPLIT < NP ? __mmask16(((1u << t.nb) - 1) << SPLIT) : __mmask16(0);
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    __m512 r[16];
#pragma GCC unroll 14
    for (int p = 0; p < NP; ++p) r[p] = acc[p][h];
    r[14] = r[15] = _mm512_setzero_ps();
    transpose16x16(r);
    const int n = std::min(16, t.rows - 16 * h);
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) {
      if (j >= n) break;
      const int i = 16 * h + j;
      __m512 v = r[j];
      if (t.bias) v = _mm512_add_ps(v, _mm512_set1_ps(t.bias[i]));
      const size_t o = size_t(i) * t.ld;
      if (t.residual_a) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(ma, t.residual_a + o));
      if (SPLIT < NP && t.residual_b)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mb, t.residual_b + o - SPLIT));
      if (t.relu) v = _mm512_max_ps(_mm512_setzero_ps(), v);  // NaN passes through
      _mm512_mask_storeu_ps(t.ya + o, ma, v);
      if (SPLIT < NP) _mm512_mask_storeu_ps(t.yb + o - SPLIT, mb, v);
    }
  }
}

}  // namespace
}  // namespace resnode::cpu
