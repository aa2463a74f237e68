// AVX2 + FMA micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators.
// Compiled with -mavx2 -mfma (by file name).
#include "gemm_avx2.h"

namespace resnode::cpu {

void f32_gemm_6x16__avx2(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                             float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep) {
  constexpr int MR = 6;
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    c0[i] = _mm256_setzero_ps();
    c1[i] = _mm256_setzero_ps();
  }
  for (size_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
    }
    a += MR;
    b += ldb;
  }
  store_tile_avx2<MR>(c0, c1, mr, nc, c, ldc, accumulate, ep);
}

}  // namespace resnode::cpu
