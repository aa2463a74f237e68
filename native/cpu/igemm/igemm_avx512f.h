// The AVX-512 igemm micro-kernel body (igemm_ukernel.h) for an MR x 32 tile of NHWC output in
// 2*MR zmm accumulators: per input channel two 16-float weight loads, MR broadcasts from the
// rows and 2*MR FMAs; the store is the GEMM kernels' fused epilogue (gemm_avx512f.h). Shared by
// f32_igemm_14x32__avx512f (28 accumulators) and f32_igemm_7x32__avx512f (14, for layers whose
// row count leaves much of a 14-row tile empty: ResNet's 7x7 stage at batch 1 has 49 rows).
// Include only from files compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma.
#pragma once
#include "../gemm/gemm_avx512f.h"
#include "igemm_ukernel.h"

namespace resnode::cpu {

template <int MR>
inline __attribute__((always_inline)) void f32_igemm_x32_avx512f(size_t mr, size_t nc, size_t kc, size_t ks,
                                                                 const float* const* a, const float* w, float* c,
                                                                 size_t ldc, size_t a_offset, const float* zero,
                                                                 const GemmEpilogue* ep) {
  __m512 acc[MR][2];
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  prefetch_tile_avx512f<MR, 2>(mr, c, ldc, false, ep);
  if (ep && kc * ks <= 128) {
    // A short K loop (ResNet's 64->256 expand with its residual) cannot hide this tile's misses
    // on y and the residual; the tile loop's next call, for short K, is the next panel of the
    // same rows (f32_conv2d_nhwc): fetch its lines too, as the GEMM kernels do.
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) {
      if (size_t(i) < mr) {
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 32), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 48), _MM_HINT_T0);
        if (ep->residual) {
          _mm_prefetch(reinterpret_cast<const char*>(ep->residual + i * ep->ld_residual + 32), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(ep->residual + i * ep->ld_residual + 48), _MM_HINT_T0);
        }
      }
    }
  }
  for (size_t t = 0; t < ks; ++t) {
    const float* row[MR];
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) row[i] = igemm_row(a[i], a_offset, zero);
    a += MR;
    for (size_t k = 0; k < kc; ++k) {
      // The weights stream from L3 or memory (a 3x3 512-channel panel is 590 KB): fetch both
      // lines of the step 4 KB ahead. Kernel harness, weights flushed between runs, 2 threads:
      // 7x7 512->512 3x3 1.25x, 14x14 256->256 1.08-1.14x, 56x56 64->256 1x1 0.94-0.99x.
      _mm_prefetch(reinterpret_cast<const char*>(w + kPrefetchA), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(w + kPrefetchA + 16), _MM_HINT_T0);
      const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16);
      w += 32;
#pragma GCC unroll 14
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(row[i][k]);
        acc[i][0] = _mm512_fmadd_ps(ai, w0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(ai, w1, acc[i][1]);
      }
    }
  }
  store_tile_avx512f<MR, 2>(acc, mr, nc, c, ldc, false, ep);
}

}  // namespace resnode::cpu
