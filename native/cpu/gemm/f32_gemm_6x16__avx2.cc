// AVX2 + FMA micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators.
// Compiled with -mavx2 -mfma (by file name).
#include <immintrin.h>

#include <cstdint>

#include "ukernel.h"

namespace resnode::cpu {
namespace {
alignas(64) const int32_t kMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                            0,  0,  0,  0,  0,  0,  0,  0};
// Lanes [0, n) set, n in [0, 8].
inline __m256i lane_mask(size_t n) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskTable + 8 - n));
}
}  // namespace

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

  const __m256i m0 = lane_mask(nc >= 8 ? 8 : nc);
  const __m256i m1 = lane_mask(nc >= 16 ? 8 : nc <= 8 ? 0 : nc - 8);
  const bool has_bn = ep && ep->bias_n;
  __m256 bn0 = _mm256_setzero_ps(), bn1 = _mm256_setzero_ps();
  if (has_bn) {
    bn0 = _mm256_maskload_ps(ep->bias_n, m0);
    bn1 = _mm256_maskload_ps(ep->bias_n + 8, m1);
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    if (size_t(i) < mr) {
      float* ci = c + i * ldc;
      __m256 v0 = c0[i], v1 = c1[i];
      if (accumulate) {
        v0 = _mm256_add_ps(v0, _mm256_maskload_ps(ci, m0));
        v1 = _mm256_add_ps(v1, _mm256_maskload_ps(ci + 8, m1));
      }
      if (ep) {
        if (ep->bias_m) {
          const __m256 bm = _mm256_broadcast_ss(ep->bias_m + i);
          v0 = _mm256_add_ps(v0, bm);
          v1 = _mm256_add_ps(v1, bm);
        }
        if (has_bn) {
          v0 = _mm256_add_ps(v0, bn0);
          v1 = _mm256_add_ps(v1, bn1);
        }
        if (ep->residual) {
          const float* ri = ep->residual + i * ep->ld_residual;
          v0 = _mm256_add_ps(v0, _mm256_maskload_ps(ri, m0));
          v1 = _mm256_add_ps(v1, _mm256_maskload_ps(ri + 8, m1));
        }
        if (ep->act.active()) {  // NaN passes through
          const __m256 lo = _mm256_set1_ps(ep->act.lo), hi = _mm256_set1_ps(ep->act.hi);
          v0 = _mm256_min_ps(hi, _mm256_max_ps(lo, v0));
          v1 = _mm256_min_ps(hi, _mm256_max_ps(lo, v1));
        }
      }
      _mm256_maskstore_ps(ci, m0, v0);
      _mm256_maskstore_ps(ci + 8, m1, v1);
    }
  }
}

}  // namespace resnode::cpu
