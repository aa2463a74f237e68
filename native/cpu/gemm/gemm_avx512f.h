// The AVX-512 micro-kernel body shared by f32_gemm_<MR>x<NR>__avx512f.cc:
// an MR x (16 * NV) tile in MR * NV zmm accumulators; per k step NV 16-float
// loads of B, MR broadcasts of A and MR * NV FMAs. The fused epilogue (bias,
// residual, ReLU) is applied as the tile is stored, with masked stores for the
// column tail. Include only from files compiled with the AVX-512 flags.
#pragma once
#include <immintrin.h>

#include "ukernel.h"

// GCC 12 flags _mm512_max_ps's internal _mm512_undefined_ps() as uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace resnode::cpu {
namespace {

// How far ahead (in floats of the A panel, 4 KB) the K loop prefetches A:
// measured best of 160-2048 on ResNet-18/50 in a model, where every layer's
// weights come from L3 or memory (5-7% faster than no prefetch).
constexpr size_t kPrefetchA = 1024;
// One-row kernels: B is the streamed operand (a fully connected layer's
// weights, packed panel after panel): fetch it as far ahead (4 KB).
constexpr size_t kPrefetchB = 1024;

// Lanes of column vector v (0 <= v < NV) that are < nc.
inline __mmask16 col_mask(size_t nc, int v) {
  const size_t lo = size_t(v) * 16;
  if (nc >= lo + 16) return __mmask16(0xFFFF);
  if (nc <= lo) return __mmask16(0);
  return __mmask16((1u << (nc - lo)) - 1);
}

// The tile of C (and of the residual) is read or written only after the K
// loop: start fetching it before the loop.
template <int MR, int NV>
inline __attribute__((always_inline)) void prefetch_tile_avx512f(size_t mr, const float* c,
                                                                 size_t ldc, bool accumulate,
                                                                 const GemmEpilogue* ep) {
  if (accumulate || ep) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      if (size_t(i) < mr) {
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
        if (NV > 1) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16 * (NV - 1)), _MM_HINT_T0);
        if (ep && ep->residual) {
          _mm_prefetch(reinterpret_cast<const char*>(ep->residual + i * ep->ld_residual), _MM_HINT_T0);
          if (NV > 1) _mm_prefetch(reinterpret_cast<const char*>(ep->residual + i * ep->ld_residual + 16 * (NV - 1)), _MM_HINT_T0);
        }
      }
    }
  }
}

// Stores an MR x (16 * NV) tile of fp32 accumulators into C (rows < mr,
// columns < nc) with the fused epilogue of ukernel.h; shared by the f32 and
// bf16 AVX-512 kernels.
template <int MR, int NV>
inline __attribute__((always_inline)) void store_tile_avx512f(const __m512 (&acc)[MR][NV],
                                                              size_t mr, size_t nc, float* c,
                                                              size_t ldc, bool accumulate,
                                                              const GemmEpilogue* ep) {
  __mmask16 mask[NV];
  __m512 bn[NV];
  const bool has_bn = ep && ep->bias_n;
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    mask[v] = col_mask(nc, v);
    bn[v] = has_bn ? _mm512_maskz_loadu_ps(mask[v], ep->bias_n + 16 * v) : _mm512_setzero_ps();
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    if (size_t(i) < mr) {
      float* ci = c + i * ldc;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        __m512 x = acc[i][v];
        if (accumulate) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask[v], ci + 16 * v));
        if (ep) {
          if (ep->bias_m) x = _mm512_add_ps(x, _mm512_set1_ps(ep->bias_m[i]));
          if (has_bn) x = _mm512_add_ps(x, bn[v]);
          if (ep->residual)
            x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(
                                     mask[v], ep->residual + i * ep->ld_residual + 16 * v));
          if (ep->act.active())  // NaN passes through
            x = _mm512_min_ps(_mm512_set1_ps(ep->act.hi), _mm512_max_ps(_mm512_set1_ps(ep->act.lo), x));
        }
        _mm512_mask_storeu_ps(ci + 16 * v, mask[v], x);
      }
    }
  }
}

template <int MR, int NV>
inline __attribute__((always_inline)) void gemm_avx512f(size_t mr, size_t nc, size_t kc,
                                                        const float* a, const float* b,
                                                        size_t ldb, float* c, size_t ldc,
                                                        bool accumulate, const GemmEpilogue* ep) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  prefetch_tile_avx512f<MR, NV>(mr, c, ldc, accumulate, ep);
  if (ep && kc <= 128) {
    // A short K loop (ResNet's 64->256 expand) cannot hide this tile's misses
    // on C and the residual; the driver's next visit to these rows (the next
    // column panel, after every row panel) can be: fetch that one too. Kernel
    // harness, 64->256 @56 with residual, activations from L3: 1.21-1.35x.
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      if (size_t(i) < mr) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16 * (NV + v)), _MM_HINT_T0);
          if (ep->residual)
            _mm_prefetch(reinterpret_cast<const char*>(ep->residual + i * ep->ld_residual + 16 * (NV + v)), _MM_HINT_T0);
        }
      }
    }
  }

  size_t k = 0;
  if constexpr (MR * NV <= 8) {
    // Eight accumulators or fewer cannot cover the FMA latency on two ports:
    // odd k steps go to a second set, added in after the loop.
    __m512 odd[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) odd[i][v] = _mm512_setzero_ps();
    for (; k + 2 <= kc; k += 2) {
      if constexpr (MR == 1) {
#pragma GCC unroll 4
        for (int v = 0; v < 2 * NV; ++v)
          _mm_prefetch(reinterpret_cast<const char*>(b + kPrefetchB + 16 * v), _MM_HINT_T0);
      } else {
        _mm_prefetch(reinterpret_cast<const char*>(a + kPrefetchA), _MM_HINT_T0);
      }
      __m512 b0[NV], b1[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        b0[v] = _mm512_loadu_ps(b + 16 * v);
        b1[v] = _mm512_loadu_ps(b + ldb + 16 * v);
      }
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const __m512 a0 = _mm512_set1_ps(a[i]), a1 = _mm512_set1_ps(a[MR + i]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          acc[i][v] = _mm512_fmadd_ps(a0, b0[v], acc[i][v]);
          odd[i][v] = _mm512_fmadd_ps(a1, b1[v], odd[i][v]);
        }
      }
      a += 2 * MR;
      b += 2 * ldb;
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_add_ps(acc[i][v], odd[i][v]);
  }
  for (; k < kc; ++k) {
    // A (the weights) streams from L2 or memory: fetch it ahead.
    _mm_prefetch(reinterpret_cast<const char*>(a + kPrefetchA), _MM_HINT_T0);
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += MR;
    b += ldb;
  }

  store_tile_avx512f<MR, NV>(acc, mr, nc, c, ldc, accumulate, ep);
}

}  // namespace
}  // namespace resnode::cpu

namespace resnode::cpu {
namespace {

// One column of C: MR rows (the A panel) x 1 column (b[k * ldb]), for column
// tails of 1-2 that would otherwise waste a whole 16-wide vector per row.
// The rows are the vector lanes; four k-interleaved accumulators hide latency.
template <int MR>
inline __attribute__((always_inline)) void gemm_col_avx512f(size_t mr, size_t kc,
                                                            const float* a, const float* b,
                                                            size_t ldb, float* c, size_t ldc,
                                                            bool accumulate,
                                                            const GemmEpilogue* ep) {
  static_assert(MR <= 16, "one zmm of rows");
  const __mmask16 am = __mmask16((1u << MR) - 1);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  size_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(am, a), _mm512_set1_ps(b[0]), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(am, a + MR), _mm512_set1_ps(b[ldb]), acc1);
    acc2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(am, a + 2 * MR), _mm512_set1_ps(b[2 * ldb]), acc2);
    acc3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(am, a + 3 * MR), _mm512_set1_ps(b[3 * ldb]), acc3);
    a += 4 * MR;
    b += 4 * ldb;
  }
  for (; k < kc; ++k) {
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(am, a), _mm512_set1_ps(b[0]), acc0);
    a += MR;
    b += ldb;
  }
  alignas(64) float t[16];
  _mm512_store_ps(t, _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
  for (size_t i = 0; i < mr; ++i) {
    float v = t[i];
    if (accumulate) v += c[i * ldc];
    if (ep) {
      if (ep->bias_m) v += ep->bias_m[i];
      if (ep->bias_n) v += ep->bias_n[0];
      if (ep->residual) v += ep->residual[i * ep->ld_residual];
      v = ep->act.apply(v);  // NaN passes through
    }
    c[i * ldc] = v;
  }
}

}  // namespace
}  // namespace resnode::cpu
