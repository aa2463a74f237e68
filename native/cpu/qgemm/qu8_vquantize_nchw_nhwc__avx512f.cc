// float32 NCHW -> u8 NHWC QuantizeLinear on AVX-512 (see qu8_layout.h): blocks of 16 channels
// x 16 pixels are quantized along the pixels (contiguous loads), transposed, and stored as 16
// bytes of each pixel's row. vdivps and vcvtps2dq (half to even in the default MXCSR mode) give
// the scalar kernel's values; the clamp on the floats sends a NaN to qmin as it does.
#include <immintrin.h>

#include "qu8_layout.h"
#include "qu8_transpose_16x16__avx512f.h"

namespace resnode::cpu {

void qu8_vquantize_nchw_nhwc__avx512f(const float* x, int64_t c, int64_t hw, int64_t i0, int64_t i1,
                                      const Qu8Quant& q, uint8_t* y) {
  const __m512 scale = _mm512_set1_ps(q.scale), zp = _mm512_set1_ps(float(q.zero_point));
  const __m512 lo = _mm512_set1_ps(float(q.qmin)), hi = _mm512_set1_ps(float(q.qmax));
  for (int64_t i = i0; i < i1; i += 16) {
    const int64_t pixels = i1 - i < 16 ? i1 - i : 16;
    const __mmask16 pmask = __mmask16((1u << pixels) - 1);
    for (int64_t c0 = 0; c0 < c; c0 += 16) {
      const int64_t chans = c - c0 < 16 ? c - c0 : 16;
      __m512i r[16];
      for (int64_t k = 0; k < 16; ++k) {
        if (k >= chans) { r[k] = _mm512_setzero_si512(); continue; }
        const __m512 v = _mm512_add_ps(_mm512_roundscale_ps(_mm512_div_ps(_mm512_maskz_loadu_ps(pmask, x + (c0 + k) * hw + i), scale),
                                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
        r[k] = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(v, lo), hi));
      }
      transpose_16x16_epi32(r);
      const __mmask16 cmask = __mmask16((1u << chans) - 1);
      for (int64_t p = 0; p < pixels; ++p) _mm_mask_storeu_epi8(y + (i + p) * c + c0, cmask, _mm512_cvtepi32_epi8(r[p]));
    }
  }
}

}  // namespace resnode::cpu
