// u8 NHWC -> float32 NCHW DequantizeLinear on AVX-512 (see qu8_layout.h): 16 pixels x 16
// channels of bytes are widened, transposed, and stored along the pixels of each channel.
#include <immintrin.h>

#include "qu8_layout.h"
#include "qu8_transpose_16x16__avx512f.h"

namespace resnode::cpu {

void qu8_vdequantize_nhwc_nchw__avx512f(const uint8_t* x, int64_t c, int64_t hw, int64_t i0, int64_t i1,
                                        const Qu8Quant& q, float* y) {
  const __m512 scale = _mm512_set1_ps(q.scale);
  const __m512i zp = _mm512_set1_epi32(q.zero_point);
  for (int64_t i = i0; i < i1; i += 16) {
    const int64_t pixels = i1 - i < 16 ? i1 - i : 16;
    const __mmask16 pmask = __mmask16((1u << pixels) - 1);
    for (int64_t c0 = 0; c0 < c; c0 += 16) {
      const int64_t chans = c - c0 < 16 ? c - c0 : 16;
      const __mmask16 cmask = __mmask16((1u << chans) - 1);
      __m512i r[16];
      for (int64_t p = 0; p < 16; ++p)
        r[p] = p < pixels ? _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(cmask, x + (i + p) * c + c0)) : _mm512_setzero_si512();
      transpose_16x16_epi32(r);
      for (int64_t k = 0; k < chans; ++k)
        _mm512_mask_storeu_ps(y + (c0 + k) * hw + i, pmask, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(r[k], zp)), scale));
    }
  }
}

}  // namespace resnode::cpu
