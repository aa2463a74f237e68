// AVX2 + FMA igemm micro-kernel (igemm_ukernel.h): a 6 x 16 tile of NHWC output in 12 ymm
// accumulators; the store is the 6x16 GEMM kernel's (gemm_avx2.h).
// Compiled with -mavx2 -mfma (by file name).
#include "../gemm/gemm_avx2.h"
#include "igemm_ukernel.h"

namespace resnode::cpu {

void f32_igemm_6x16__avx2(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a, const float* w, float* c,
                          size_t ldc, size_t a_offset, const float* zero, const GemmEpilogue* ep) {
  constexpr int MR = 6;
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
  for (size_t t = 0; t < ks; ++t) {
    const float* row[MR];
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) row[i] = igemm_row(a[i], a_offset, zero);
    a += MR;
    for (size_t k = 0; k < kc; ++k) {
      const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
      w += 16;
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        const __m256 ai = _mm256_broadcast_ss(row[i] + k);
        c0[i] = _mm256_fmadd_ps(ai, w0, c0[i]);
        c1[i] = _mm256_fmadd_ps(ai, w1, c1[i]);
      }
    }
  }
  store_tile_avx2<MR>(c0, c1, mr, nc, c, ldc, false, ep);
}

}  // namespace resnode::cpu
