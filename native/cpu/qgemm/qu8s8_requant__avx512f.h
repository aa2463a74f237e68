// The requantising store the AVX-512 qu8s8 micro-kernels share (compiled into each with its flags).
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "qu8s8_gemm.h"

namespace resnode::cpu {

// One row's requantisation for a kernel 32 channels (two packed blocks) wide: nc <= 32 of them stored.
struct Qu8RequantRow32__avx512f {
  __m512 m0, m1, lo, hi;
  __m512i zp;
  __mmask16 mask0, mask1;
  Qu8RequantRow32__avx512f(const float* multipliers, const Qu8Requant& r, int64_t nc)
      : m0(_mm512_loadu_ps(multipliers)), m1(_mm512_loadu_ps(multipliers + kQu8s8Nr)),
        lo(_mm512_set1_ps(float(r.qmin - r.zero_point))), hi(_mm512_set1_ps(float(r.qmax - r.zero_point))),
        zp(_mm512_set1_epi32(r.zero_point)), mask0(__mmask16((1u << (nc < 16 ? nc : 16)) - 1)),
        mask1(__mmask16((1u << (nc > 16 ? nc - 16 : 0)) - 1)) {}
  // clamp(round_half_even(float(acc) * m) + zp) to u8. The clamp is done on the floats (its bounds
  // are integers, so it commutes with the rounding), as ORT does: no float past int32's range
  // reaches the conversion; cvtps rounds half to even in the default MXCSR mode.
  static void store16(__m512i acc, __m512 m, __m512 lo, __m512 hi, __m512i zp, __mmask16 mask, uint8_t* c) {
    const __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), m), lo), hi);
    _mm_mask_storeu_epi8(c, mask, _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v), zp)));
  }
  // Channels 0-15 from x, 16-31 from y.
  void store(__m512i x, __m512i y, uint8_t* c) const {
    store16(x, m0, lo, hi, zp, mask0, c);
    store16(y, m1, lo, hi, zp, mask1, c + kQu8s8Nr);
  }
};

}  // namespace resnode::cpu
