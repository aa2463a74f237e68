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

namespace resnode::cpu {

void requantize(const float* x, int64_t count, int64_t channels, int64_t inner, const Requant& r,
                float* y) {
  assert(r.n_multipliers == 1 || r.n_multipliers == channels);
  assert(r.divisor > 0.f && r.qmin <= r.zero_point && r.zero_point <= r.qmax);
  const bool per_channel = r.n_multipliers > 1;
  for (int64_t i = 0; i < count; ++i) {
    const float m = r.multipliers[per_channel ? (i / inner) % channels : 0];
    // double: the integer range may be int32's, beyond float's exact integers.
    double q = double(std::nearbyint((x[i] * m) / r.divisor)) + r.zero_point;
    q = q < r.qmin ? r.qmin : (q > r.qmax ? r.qmax : q);
    y[i] = float(q - r.zero_point) * r.out_scale;
  }
}

}  // namespace resnode::cpu
