// The scaled sum of a window's rows, channel by channel (pool_nhwc.h): the portable kernel.
#include "pool_nhwc.h"

namespace resnode::cpu {

void f32_avgpool__scalar(const float* const* rows, size_t nrows, size_t channels, float scale, float* out) {
  for (size_t c = 0; c < channels; ++c) {
    float s = 0.0f;
    for (size_t r = 0; r < nrows; ++r) s += rows[r][c];
    out[c] = s * scale;
  }
}

}  // namespace resnode::cpu
