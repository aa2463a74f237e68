// Depthwise 5x5 stride-2 row kernel, avx512f (template in dwconv_avx512f.h).
#include "dwconv_avx512f.h"

namespace resnode::cpu {

void f32_dwconv_5x5s2__avx512f(const float* const* rows, size_t phase, const float* w, float bias,
        const float* residual, float lo, float hi, size_t out_w, float* y) {
  dwconv_row_avx512f<5, 2>(rows, phase, w, bias, residual, lo, hi, out_w, y);
}

}  // namespace resnode::cpu
