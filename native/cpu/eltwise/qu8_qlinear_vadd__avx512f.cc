// ONNX Runtime's QLinearAdd on quantized bytes on AVX-512 (see elementwise.h): 16 bytes widened
// to floats, the scalar kernel's fused multiply-adds and rounding (vcvtps2dq after roundscale),
// clamped and narrowed back.
#include <immintrin.h>

#include "elementwise.h"

namespace resnode::cpu {

void qu8_qlinear_vadd__avx512f(const uint8_t* a, const uint8_t* b, int64_t n, const QLinearAdd& p, uint8_t* y) {
  const __m512 ra = _mm512_set1_ps(p.ratio_a), rb = _mm512_set1_ps(p.ratio_b), fixed = _mm512_set1_ps(p.fixed);
  // Clamped in the shifted domain: [qmin + shift, qmax + shift] is the byte range.
  const __m512 lo = _mm512_set1_ps(float(p.qmin + p.shift)), hi = _mm512_set1_ps(float(p.qmax + p.shift));
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 qa = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i))));
    const __m512 qb = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i))));
    const __m512 c = _mm512_roundscale_ps(_mm512_fmadd_ps(qa, ra, _mm512_fmadd_ps(qb, rb, fixed)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512i q = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(c, lo), hi));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm512_cvtepi32_epi8(q));
  }
  qu8_qlinear_vadd__scalar(a + i, b + i, n - i, p, y + i);
}

}  // namespace resnode::cpu
