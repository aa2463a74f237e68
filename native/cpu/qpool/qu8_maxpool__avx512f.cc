// The u8 max of a window's rows, 64 channels per vpmaxub (AVX512BW), the tail under a byte mask
// (see qu8_pool.h).
#include <immintrin.h>

#include <cassert>

#include "qu8_pool.h"

namespace resnode::cpu {

void qu8_maxpool__avx512f(const uint8_t* const* rows, size_t nrows, size_t channels, uint8_t* out) {
  assert(nrows >= 1);
  for (size_t c = 0; c < channels; c += 64) {
    const size_t left = channels - c;
    const __mmask64 k = left >= 64 ? ~__mmask64(0) : (__mmask64(1) << left) - 1;
    __m512i m = _mm512_maskz_loadu_epi8(k, rows[0] + c);
    for (size_t r = 1; r < nrows; ++r) m = _mm512_max_epu8(m, _mm512_maskz_loadu_epi8(k, rows[r] + c));
    _mm512_mask_storeu_epi8(out + c, k, m);
  }
}

}  // namespace resnode::cpu
