// The AVX2 store shared by the 6x16 GEMM and igemm micro-kernels: an MR x 16 tile of fp32
// accumulators (two ymm per row) into C (rows < mr, columns < nc) with the fused epilogue of
// ukernel.h. Include only from files compiled with -mavx2 -mfma.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "ukernel.h"

namespace resnode::cpu {
namespace {

alignas(64) const int32_t kAvx2MaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
// Lanes [0, n) set, n in [0, 8].
inline __m256i lane_mask_avx2(size_t n) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kAvx2MaskTable + 8 - n));
}

template <int MR>
inline __attribute__((always_inline)) void store_tile_avx2(const __m256 (&c0)[MR], const __m256 (&c1)[MR], size_t mr,
                                                           size_t nc, float* c, size_t ldc, bool accumulate,
                                                           const GemmEpilogue* ep) {
  const __m256i m0 = lane_mask_avx2(nc >= 8 ? 8 : nc);
  const __m256i m1 = lane_mask_avx2(nc >= 16 ? 8 : nc <= 8 ? 0 : nc - 8);
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

}  // namespace
}  // namespace resnode::cpu
