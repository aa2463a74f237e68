// The AVX-512 direct-convolution micro-kernel body (see dconv.h) shared by
// f32_dconv_*__avx512f.cc. Include only from files compiled with the AVX-512 flags.
#pragma once
#include <immintrin.h>

#include <algorithm>

#include "dconv.h"
#include "f32_transpose_16x16__avx512f.h"

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace resnode::cpu {
namespace {

constexpr size_t kDconvPrefetchW = 1024;  // floats ahead in the weight panel (4 KB)

// The output tile (channel rows, and the residual's) is written only after
// the K loop and is rarely in L1/L2 (in a model it was written layers ago):
// start fetching it now, as the GEMM kernels do.
inline void dconv_prefetch_tile(const DconvTile& t) {
  if (t.nhwc) {  // a pixel's channels are contiguous: its first and last line
    for (int p = 0; p < t.pixels; ++p) {
      const size_t o = size_t(p) * t.ld;
      _mm_prefetch(reinterpret_cast<const char*>(t.y + o), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(t.y + o + t.rows - 1), _MM_HINT_T0);
      if (t.residual) _mm_prefetch(reinterpret_cast<const char*>(t.residual + o), _MM_HINT_T0);
    }
    return;
  }
  for (int i = 0; i < t.rows; ++i) {
    const size_t o = size_t(i) * t.ld;
    _mm_prefetch(reinterpret_cast<const char*>(t.y + o), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(t.y + o + t.pixels - 1), _MM_HINT_T0);
    if (t.residual) {
      _mm_prefetch(reinterpret_cast<const char*>(t.residual + o), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(t.residual + o + t.pixels - 1), _MM_HINT_T0);
    }
  }
}

// The epilogue: transpose the pixel-major accumulators, 16 channels at a
// time, to channel rows of NCHW in registers (a gather per channel was
// measured at half of the 7x7 stem's time), then bias, residual, ReLU.
template <int NP, int NV>
inline __attribute__((always_inline)) void dconv_store_nhwc(__m512 (&acc)[NP][NV], const DconvTile& t) {
#pragma GCC unroll 4
  for (int h = 0; h < NV; ++h) {
    const int n = std::min(16, t.rows - 16 * h);
    if (n <= 0) break;
    const __mmask16 m = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
    const __m512 b = t.bias ? _mm512_maskz_loadu_ps(m, t.bias + 16 * h) : _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p) {
      if (p >= t.pixels) break;
      const size_t o = size_t(p) * t.ld + size_t(16 * h);
      __m512 v = _mm512_add_ps(acc[p][h], b);
      if (t.residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, t.residual + o));
      if (t.act.active())  // NaN passes through
        v = _mm512_min_ps(_mm512_set1_ps(t.act.hi), _mm512_max_ps(_mm512_set1_ps(t.act.lo), v));
      _mm512_mask_storeu_ps(t.y + o, m, v);
    }
  }
}

template <int NP, int NV>
inline __attribute__((always_inline)) void dconv_store(__m512 (&acc)[NP][NV], const DconvTile& t) {
  if (t.nhwc) return dconv_store_nhwc<NP, NV>(acc, t);
  const __mmask16 m = __mmask16((1u << t.pixels) - 1);
#pragma GCC unroll 4
  for (int h = 0; h < NV; ++h) {
    const int n = std::min(16, t.rows - 16 * h);
    if (n <= 0) break;
    __m512 r[16];
#pragma GCC unroll 16
    for (int p = 0; p < 16; ++p) r[p] = p < NP ? acc[p][h] : _mm512_setzero_ps();
    transpose16x16(r);
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) {
      if (j >= n) break;
      const int i = 16 * h + j;
      __m512 v = r[j];
      if (t.bias) v = _mm512_add_ps(v, _mm512_set1_ps(t.bias[i]));
      const size_t o = size_t(i) * t.ld;
      if (t.residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, t.residual + o));
      if (t.act.active())  // NaN passes through
        v = _mm512_min_ps(_mm512_set1_ps(t.act.hi), _mm512_max_ps(_mm512_set1_ps(t.act.lo), v));
      _mm512_mask_storeu_ps(t.y + o, m, v);
    }
  }
}

// NP pixels of one output row x 16 * NV channels: NV / 2 weight panels of 32
// channels, the second t.panel_stride floats after the first (0 when there is
// none: its rows are computed and dropped). S: the pixel stride (0: t.stride_w).
// WRAP > 0: the pixels from WRAP on are the next output row's (its input
// t.row_stride floats on), so a 7-pixel-wide output fills 14-pixel tiles.
template <int NP, int NV, int S, int WRAP = 0>
inline __attribute__((always_inline)) void dconv_avx512f(size_t channels, size_t taps,
                                                         const float* w, const DconvTile& t) {
  static_assert(NP * NV <= 28 && NP <= 16 && (NV == 2 || NV == 4), "28 accumulators, 32-channel panels");
  __m512 acc[NP][NV];
#pragma GCC unroll 16
  for (int p = 0; p < NP; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[p][v] = _mm512_setzero_ps();
  dconv_prefetch_tile(t);
  const size_t sw = S ? size_t(S) : t.stride_w;
  const float* x = t.x;
  const float* w2 = w + t.panel_stride;
  for (size_t c = 0; c < channels; ++c) {
    if (t.prefetch)
      for (size_t f = 0; f < t.prefetch_per_channel; f += 16)
        _mm_prefetch(reinterpret_cast<const char*>(t.prefetch + c * t.prefetch_per_channel + f), _MM_HINT_T1);
    for (size_t k = 0; k < taps; ++k) {
      // The weights stream from L2 or L3 (two cache lines per tap and panel): fetch them ahead.
      __m512 wv[NV];
      _mm_prefetch(reinterpret_cast<const char*>(w + kDconvPrefetchW), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(w + kDconvPrefetchW + 16), _MM_HINT_T0);
      wv[0] = _mm512_load_ps(w);
      wv[1] = _mm512_load_ps(w + 16);
      if constexpr (NV == 4) {
        _mm_prefetch(reinterpret_cast<const char*>(w2 + kDconvPrefetchW), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(w2 + kDconvPrefetchW + 16), _MM_HINT_T0);
        wv[2] = _mm512_load_ps(w2);
        wv[3] = _mm512_load_ps(w2 + 16);
      }
      const float* px = x + t.tap_offset[k];
      const float* px_next_row = WRAP ? px + t.row_stride - size_t(WRAP) * sw : px;
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p) {
        const __m512 xv = _mm512_set1_ps((WRAP && p >= WRAP ? px_next_row : px)[size_t(p) * sw]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[p][v] = _mm512_fmadd_ps(xv, wv[v], acc[p][v]);
      }
      w += 32;
      w2 += 32;
    }
    x += t.channel_stride;
  }
  dconv_store<NP, NV>(acc, t);
}

}  // namespace
}  // namespace resnode::cpu
