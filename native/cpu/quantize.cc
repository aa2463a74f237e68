// Integer-exact requantization of the planner's int8 patterns, elementwise in float32 (the
// QuantizeLinear -> DequantizeLinear pair is eltwise/f32_vquantize_dequantize__*).
#include <cassert>
#include <cmath>

#include "ops.h"

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
