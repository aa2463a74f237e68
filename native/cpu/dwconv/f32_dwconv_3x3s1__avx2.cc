// Depthwise 3x3 stride-1 row kernel, avx2 (template in dwconv_avx2.h).
#include "dwconv_avx2.h"

namespace resnode::cpu {

void f32_dwconv_3x3s1__avx2(const float* const* rows, size_t phase, const float* w, float bias,
        const float* residual, float lo, float hi, size_t out_w, float* y) {
  dwconv_row_avx2<3, 1>(rows, phase, w, bias, residual, lo, hi, out_w, y);
}

}  // namespace resnode::cpu
