// AVX-512 transpose of columns [c0, c1) of a row-major [rows x cols] matrix (f32_transpose.h):
// 16 x 16 blocks in 16 zmm registers (the dconv kernels' transpose16x16), the ragged edges through
// masked loads and stores, so every block takes the same path.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include <immintrin.h>

#include "../gemm/f32_transpose_16x16__avx512f.h"
#include "f32_transpose.h"

namespace resnode::cpu {
namespace {

inline __mmask16 first_lanes(size_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

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
      transpose16x16(v);
#pragma GCC unroll 16
      for (size_t j = 0; j < 16; ++j)
        if (j < nc) _mm512_mask_storeu_ps(y + (cb + j) * rows + r0, row_mask, v[j]);
    }
  }
}

}  // namespace resnode::cpu
