// The unary elementwise kernels (sigmoid, silu, hard sigmoid/swish, clip, erf) on scalar.
#include "elementwise_impl.h"

namespace resnode::cpu {

void f32_vunary__scalar(UnaryFn fn, float alpha, float beta, const float* x, float* y, int64_t n) {
  impl::vunary<vec::Scalar>(fn, alpha, beta, x, y, n);
}

}  // namespace resnode::cpu
