// The activation fused into a conv's (or GEMM's) store: y = min(max(v, lo), hi)
// after bias and residual. ReLU is [0, +inf), ReLU6 (Clip(0, 6)) [0, 6], no
// activation (-inf, +inf). NaN passes through (the vector max/min return their
// second operand, v, when either is NaN).
#pragma once
#include <limits>

namespace resnode::cpu {

struct Clamp {
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();

  static Clamp relu(bool on) { return on ? Clamp{0.0f, std::numeric_limits<float>::infinity()} : Clamp{}; }
  // False for (-inf, +inf): the store can skip the clamp.
  bool active() const { return lo != -std::numeric_limits<float>::infinity() || hi != std::numeric_limits<float>::infinity(); }
  bool is_relu() const { return lo == 0.0f && hi == std::numeric_limits<float>::infinity(); }
  float apply(float v) const {
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return v;
  }
};

}  // namespace resnode::cpu
