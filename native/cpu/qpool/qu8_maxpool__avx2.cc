// The u8 max of a window's rows, 32 channels per vpmaxub (see qu8_pool.h); the tail byte by byte.
#include <immintrin.h>

#include <cassert>

#include "qu8_pool.h"

namespace resnode::cpu {

void qu8_maxpool__avx2(const uint8_t* const* rows, size_t nrows, size_t channels, uint8_t* out) {
  assert(nrows >= 1);
  size_t c = 0;
  for (; c + 32 <= channels; c += 32) {
    __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[0] + c));
    for (size_t r = 1; r < nrows; ++r) m = _mm256_max_epu8(m, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[r] + c)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c), m);
  }
  for (; c < channels; ++c) {
    uint8_t m = rows[0][c];
    for (size_t r = 1; r < nrows; ++r) m = rows[r][c] > m ? rows[r][c] : m;
    out[c] = m;
  }
}

}  // namespace resnode::cpu
