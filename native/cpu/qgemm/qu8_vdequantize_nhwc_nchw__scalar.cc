// The portable u8 NHWC -> float32 NCHW DequantizeLinear (see qu8_layout.h).
#include "qu8_layout.h"

namespace resnode::cpu {

void qu8_vdequantize_nhwc_nchw__scalar(const uint8_t* x, int64_t c, int64_t hw, int64_t i0, int64_t i1,
                                       const Qu8Quant& q, float* y) {
  for (int64_t ch = 0; ch < c; ++ch) {
    float* yc = y + ch * hw;
    for (int64_t i = i0; i < i1; ++i) yc[i] = float(int32_t(x[i * c + ch]) - q.zero_point) * q.scale;
  }
}

}  // namespace resnode::cpu
