// The u8 max of a window's rows, one byte at a time (see qu8_pool.h); also the reference the
// vector kernels are tested against.
#include <cassert>

#include "qu8_pool.h"

namespace resnode::cpu {

void qu8_maxpool__scalar(const uint8_t* const* rows, size_t nrows, size_t channels, uint8_t* out) {
  assert(nrows >= 1);
  for (size_t c = 0; c < channels; ++c) {
    uint8_t m = rows[0][c];
    for (size_t r = 1; r < nrows; ++r) m = rows[r][c] > m ? rows[r][c] : m;
    out[c] = m;
  }
}

}  // namespace resnode::cpu
