// An elementwise activation a conv applies to its output as each tile is
// finished (while the tile is in L1 or L2), after bias, residual and clamp:
// SiLU, HardSwish, HardSigmoid, Sigmoid, through the unary kernel of the ISA
// fixed when the step was parsed (eltwise/elementwise.h).
#pragma once
#include <cstdint>

namespace resnode::cpu {

enum class UnaryFn { sigmoid = 0, silu, hard_sigmoid, hard_swish, clip, erf, gelu };

// y[0, n) = f(x[0, n)); alpha, beta: hard_sigmoid's slope and offset (hard_swish:
// x·hard_sigmoid(x)), clip's min and max, gelu's divisor and scale
// ((x·(erf(x / alpha) + 1))·beta). y may be x.
using UnaryKernel = void (*)(UnaryFn fn, float alpha, float beta, const float* x, float* y, int64_t n);

struct Activation {
  UnaryKernel kernel = nullptr;  // null: none
  UnaryFn fn = UnaryFn::sigmoid;
  float alpha = 0, beta = 0;
  bool active() const { return kernel != nullptr; }
  // y[0, n) = f(y[0, n)) in place.
  void apply(float* y, int64_t n) const { kernel(fn, alpha, beta, y, y, n); }
};

}  // namespace resnode::cpu
