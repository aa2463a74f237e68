// ONNX Runtime's QLinearAdd on quantized bytes, one element at a time (see elementwise.h); also
// the AVX-512 kernel's tail. The arithmetic of f32_qlinear_vadd__scalar from the integers on.
#include <cassert>
#include <cmath>

#include "elementwise.h"

namespace resnode::cpu {

void qu8_qlinear_vadd__scalar(const uint8_t* a, const uint8_t* b, int64_t n, const QLinearAdd& p, uint8_t* y) {
  assert(p.qmin <= p.qmax);
  const float lo = float(p.qmin), hi = float(p.qmax), shift = float(p.shift);
  for (int64_t i = 0; i < n; ++i) {
    float c = std::nearbyint(std::fmaf(float(a[i]), p.ratio_a, std::fmaf(float(b[i]), p.ratio_b, p.fixed))) - shift;
    c = c < lo ? lo : (c > hi ? hi : c);
    y[i] = uint8_t(int32_t(c) + p.shift);
  }
}

}  // namespace resnode::cpu
