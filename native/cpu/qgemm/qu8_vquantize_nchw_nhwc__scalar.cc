// The portable float32 NCHW -> u8 NHWC QuantizeLinear (see qu8_layout.h), and the per-ISA table.
#include <cmath>

#include "../arch.h"
#include "qu8_layout.h"

namespace resnode::cpu {

void qu8_vquantize_nchw_nhwc__scalar(const float* x, int64_t c, int64_t hw, int64_t i0, int64_t i1,
                                     const Qu8Quant& q, uint8_t* y) {
  const float lo = float(q.qmin), hi = float(q.qmax), zp = float(q.zero_point);
  for (int64_t ch = 0; ch < c; ++ch) {
    const float* xc = x + ch * hw;
    for (int64_t i = i0; i < i1; ++i) {
      float v = std::nearbyint(xc[i] / q.scale) + zp;
      v = v >= lo ? v : lo;  // written so that a NaN lands on qmin, as the vector max does
      v = v <= hi ? v : hi;
      y[i * c + ch] = uint8_t(int32_t(v));
    }
  }
}

Qu8LayoutConfig qu8_layout_config(Isa isa) {
#if RN_ARCH_X86_64
  if (isa == Isa::avx512) return {qu8_vquantize_nchw_nhwc__avx512f, qu8_vdequantize_nhwc_nchw__avx512f};
#endif
  (void)isa;
  return {qu8_vquantize_nchw_nhwc__scalar, qu8_vdequantize_nhwc_nchw__scalar};
}

}  // namespace resnode::cpu
