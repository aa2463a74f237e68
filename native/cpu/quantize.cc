// QuantizeLinear -> DequantizeLinear of an activation, elementwise in float32,
// rounding as ONNX specifies (half to even: std::nearbyint in the default
// rounding mode) and dividing by the scale as ONNX Runtime does, so that the
// values match its QuantizeLinear exactly.
#include <cassert>
#include <cmath>

#include "ops.h"

namespace resnode::cpu {

void quantize_dequantize(const float* x, int64_t count, float scale, int32_t zero_point,
                         int32_t qmin, int32_t qmax, float* y) {
  assert(scale > 0.f && qmin <= zero_point && zero_point <= qmax);
  const float zp = float(zero_point), lo = float(qmin), hi = float(qmax);
  for (int64_t i = 0; i < count; ++i) {
    float q = std::nearbyint(x[i] / scale) + zp;
    q = q < lo ? lo : (q > hi ? hi : q);  // NaN passes through, as in the JS kernel
    y[i] = (q - zp) * scale;
  }
}

}  // namespace resnode::cpu
