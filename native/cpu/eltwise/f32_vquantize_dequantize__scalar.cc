// QuantizeLinear -> DequantizeLinear of an activation, one element at a time, rounding as ONNX
// specifies (half to even: std::nearbyint in the default rounding mode) and dividing by the
// scale as ONNX Runtime does, so that the values match its QuantizeLinear exactly; also the
// other ISAs' tail.
#include <cassert>
#include <cmath>

#include "elementwise.h"

namespace resnode::cpu {

void f32_vquantize_dequantize__scalar(const float* x, int64_t n, const QuantizeDequantize& q, float* y) {
  assert(q.scale > 0.f && q.qmin <= q.zero_point && q.zero_point <= q.qmax);
  const float zp = float(q.zero_point), lo = float(q.qmin), hi = float(q.qmax);
  for (int64_t i = 0; i < n; ++i) {
    float v = std::nearbyint(x[i] / q.scale) + zp;
    v = v < lo ? lo : (v > hi ? hi : v);  // NaN passes through, as in the JS kernel
    y[i] = (v - zp) * q.scale;
  }
}

}  // namespace resnode::cpu
