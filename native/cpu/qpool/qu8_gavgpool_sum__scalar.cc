// Per-channel sums of u8 NHWC pixels, one byte at a time (see qu8_pool.h).
#include "qu8_pool.h"

namespace resnode::cpu {

void qu8_gavgpool_sum__scalar(const uint8_t* x, size_t pixels, size_t channels, int32_t* sums) {
  for (size_t c = 0; c < channels; ++c) sums[c] = 0;
  for (size_t p = 0; p < pixels; ++p)
    for (size_t c = 0; c < channels; ++c) sums[c] += x[p * channels + c];
}

}  // namespace resnode::cpu
