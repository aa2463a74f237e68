// AVX-512 transpose of columns [c0, c1) of a row-major [rows x cols] matrix (f32_transpose.h):
// 16 x 16 blocks in 16 zmm registers (unpack, in-lane shuffle, two 128-bit lane shuffles), the
// ragged edges through masked loads and stores, so every block takes the same path.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include <immintrin.h>

#include "f32_transpose.h"

namespace resnode::cpu {
namespace {

inline __mmask16 first_lanes(size_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

inline void transpose_16x16(__m512 (&r)[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
  }
}

}  // namespace

void f32_transpose__avx512f(const float* x, size_t rows, size_t cols, size_t c0, size_t c1, float* y) {
  for (size_t r0 = 0; r0 < rows; r0 += 16) {
    const size_t nr = rows - r0 < 16 ? rows - r0 : 16;
    const __mmask16 row_mask = first_lanes(nr);
    for (size_t cb = c0; cb < c1; cb += 16) {
      const size_t nc = c1 - cb < 16 ? c1 - cb : 16;
      const __mmask16 col_mask = first_lanes(nc);
      __m512 v[16];
#pragma GCC unroll 16
      for (size_t i = 0; i < 16; ++i)
        v[i] = i < nr ? _mm512_maskz_loadu_ps(col_mask, x + (r0 + i) * cols + cb) : _mm512_setzero_ps();
      transpose_16x16(v);
#pragma GCC unroll 16
      for (size_t j = 0; j < 16; ++j)
        if (j < nc) _mm512_mask_storeu_ps(y + (cb + j) * rows + r0, row_mask, v[j]);
    }
  }
}

}  // namespace resnode::cpu
