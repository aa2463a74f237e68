// Per-channel sums of u8 NHWC pixels: 16 channels widened to int32 per vpmovzxbd, added down the
// pixels; the last block under a byte mask (see qu8_pool.h). Sums stay exact below 2^31 / 255
// pixels, far above any plan's h·w (checked by the caller).
#include <immintrin.h>

#include "qu8_pool.h"

namespace resnode::cpu {

void qu8_gavgpool_sum__avx512f(const uint8_t* x, size_t pixels, size_t channels, int32_t* sums) {
  for (size_t c = 0; c < channels; c += 16) {
    const size_t left = channels - c;
    const __mmask16 k = left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1);
    __m512i acc = _mm512_setzero_si512();
    for (size_t p = 0; p < pixels; ++p) acc = _mm512_add_epi32(acc, _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(k, x + p * channels + c)));
    _mm512_mask_storeu_epi32(sums + c, k, acc);
  }
}

}  // namespace resnode::cpu
