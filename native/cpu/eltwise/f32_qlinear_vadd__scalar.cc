// ONNX Runtime's QLinearAdd on dequantized operands, one element at a time; also the other
// ISAs' tail. std::fmaf rounds once, as ORT's vfmadd does.
#include <cassert>
#include <cmath>

#include "elementwise.h"

namespace resnode::cpu {

void f32_qlinear_vadd__scalar(const float* a, const float* b, int64_t n, const QLinearAdd& p, float* y) {
  assert(p.a_scale > 0.f && p.b_scale > 0.f && p.out_scale > 0.f && p.qmin <= p.qmax);
  const float za = float(p.a_zero_point + p.shift), zb = float(p.b_zero_point + p.shift);
  const float lo = float(p.qmin), hi = float(p.qmax), zc = float(p.zero_point), shift = float(p.shift);
  for (int64_t i = 0; i < n; ++i) {
    // The operands hold (q - z) * scale exactly as a float32: dividing back recovers q.
    const float qa = std::nearbyint(a[i] / p.a_scale) + za;
    const float qb = std::nearbyint(b[i] / p.b_scale) + zb;
    // Two roundings, each once, in this order: as ORT's kernel computes it.
    // + 0.f: the integer c has no sign of zero (a sum that rounds up to 0 from below gives -0).
    float c = std::nearbyint(std::fmaf(qa, p.ratio_a, std::fmaf(qb, p.ratio_b, p.fixed))) - shift + 0.f;
    c = c < lo ? lo : (c > hi ? hi : c);
    y[i] = (c - zc) * p.out_scale;
  }
}

}  // namespace resnode::cpu
