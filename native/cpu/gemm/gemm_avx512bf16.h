// The AVX512_BF16 micro-kernel body shared by bf16_gemm_<MR>x<NR>__avx512bf16.cc.
//
// Same contract as the f32 kernels (ukernel.h), with K counted in pairs: every
// 32-bit word of the A and B panels holds two bf16 values, k = 2p (low half)
// and k = 2p + 1 (high half), so kc is the number of k pairs and ldb counts
// words. One vdpbf16ps per (row, 16 columns) does both pairs' multiply-adds in
// fp32: twice the multiplies of one vfmadd231ps at the same instruction rate.
// Products of two bf16 values are exact in fp32; only the additions round.
// The fused epilogue (bias, residual, ReLU) is fp32, as the f32 kernels'.
// Include only from files compiled with -mavx512bf16 (and the AVX-512 flags).
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "gemm_avx512f.h"
#include "ukernel.h"

namespace resnode::cpu {
namespace {

template <int MR, int NV>
inline __attribute__((always_inline)) void gemm_avx512bf16(size_t mr, size_t nc, size_t kc,
                                                           const float* a_words,
                                                           const float* b_words, size_t ldb,
                                                           float* c, size_t ldc, bool accumulate,
                                                           const GemmEpilogue* ep) {
  const uint32_t* a = reinterpret_cast<const uint32_t*>(a_words);
  const uint32_t* b = reinterpret_cast<const uint32_t*>(b_words);
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  prefetch_tile_avx512f<MR, NV>(mr, c, ldc, accumulate, ep);
  for (size_t k = 0; k < kc; ++k) {
    // A (the weights) streams from L2 or memory: fetch it ahead, as the f32 kernels.
    _mm_prefetch(reinterpret_cast<const char*>(a + kPrefetchA), _MM_HINT_T0);
    __m512bh bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = (__m512bh)_mm512_loadu_si512(b + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512bh ai = (__m512bh)_mm512_set1_epi32(int(a[i]));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], ai, bv[v]);
    }
    a += MR;
    b += ldb;
  }

  store_tile_avx512f<MR, NV>(acc, mr, nc, c, ldc, accumulate, ep);
}

}  // namespace
}  // namespace resnode::cpu
