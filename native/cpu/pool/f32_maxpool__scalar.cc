// The max of a window's rows, channel by channel (pool_nhwc.h): the portable kernel.
#include <cfloat>

#include "pool_nhwc.h"

namespace resnode::cpu {

void f32_maxpool__scalar(const float* const* rows, size_t nrows, size_t channels, float* out) {
  for (size_t c = 0; c < channels; ++c) {
    float m = -FLT_MAX;
    for (size_t r = 0; r < nrows; ++r) {
      const float v = rows[r][c];
      m = v > m ? v : m;
    }
    out[c] = m;
  }
}

}  // namespace resnode::cpu
