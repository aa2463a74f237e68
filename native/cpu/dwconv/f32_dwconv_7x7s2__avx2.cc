// Depthwise 7x7 stride-2 row kernel, avx2 (template in dwconv_avx2.h).
#include "dwconv_avx2.h"

namespace resnode::cpu {

void f32_dwconv_7x7s2__avx2(const float* const* rows, size_t phase, const float* w, float bias,
        const float* residual, float lo, float hi, size_t out_w, float* y) {
  dwconv_row_avx2<7, 2>(rows, phase, w, bias, residual, lo, hi, out_w, y);
}

}  // namespace resnode::cpu
