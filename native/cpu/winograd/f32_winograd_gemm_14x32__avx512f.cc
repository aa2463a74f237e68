// AVX-512 Winograd tile GEMMs, shared by F(4x4,3x3) and F(2x2,3x3): per
// element e, 14 tiles x 32 output channels in 28 zmm accumulators.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include "winograd_avx512f.h"

namespace resnode::cpu {
namespace {

template <int MR>
RN_INLINE void gemm_tile(size_t k, const float* v, size_t ld_c, const float* u, float* m) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) {
    c0[i] = _mm512_setzero_ps();
    c1[i] = _mm512_setzero_ps();
  }
  for (size_t c = 0; c < k; ++c) {
    const __m512 b0 = _mm512_load_ps(u);
    const __m512 b1 = _mm512_load_ps(u + 16);
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) {
      const __m512 a = _mm512_set1_ps(v[i]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
    v += ld_c;
    u += 32;
  }
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) {
    _mm512_store_ps(m + i * 32, c0[i]);
    _mm512_store_ps(m + i * 32 + 16, c1[i]);
  }
}

using gemm_tile_fn = void (*)(size_t, const float*, size_t, const float*, float*);
template <int MR>
void gemm_tile_fn_impl(size_t k, const float* v, size_t ld_c, const float* u, float* m) {
  gemm_tile<MR>(k, v, ld_c, u, m);
}
constexpr gemm_tile_fn kGemm[15] = {
    nullptr,               gemm_tile_fn_impl<1>,  gemm_tile_fn_impl<2>,  gemm_tile_fn_impl<3>,
    gemm_tile_fn_impl<4>,  gemm_tile_fn_impl<5>,  gemm_tile_fn_impl<6>,  gemm_tile_fn_impl<7>,
    gemm_tile_fn_impl<8>,  gemm_tile_fn_impl<9>,  gemm_tile_fn_impl<10>, gemm_tile_fn_impl<11>,
    gemm_tile_fn_impl<12>, gemm_tile_fn_impl<13>, gemm_tile_fn_impl<14>};

}  // namespace

void f32_winograd_gemm_14x32__avx512f(size_t elems, size_t k, size_t nq, const uint8_t* mr,
                                      const float* v, size_t ld_e, size_t ld_q, const float* u,
                                      size_t ldu_e, float* m, size_t ldm_e) {
  // e outer: the U panel of one e (k x 32) stays in L1/L2 across the groups.
  for (size_t e = 0; e < elems; ++e) {
    float* me = m + e * ldm_e;
    for (size_t q = 0; q < nq; ++q) {
      kGemm[mr[q]](k, v + e * ld_e + q * ld_q, kGroupLd, u + e * ldu_e, me);
      me += size_t(mr[q]) * 32;
    }
  }
}

}  // namespace resnode::cpu
