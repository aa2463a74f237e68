// The unary elementwise kernels (sigmoid, silu, hard sigmoid/swish, clip, erf) on avx512f.
#include "elementwise_impl.h"

namespace resnode::cpu {

void f32_vunary__avx512f(UnaryFn fn, float alpha, float beta, const float* x, float* y, int64_t n) {
  impl::vunary<vec::Avx512>(fn, alpha, beta, x, y, n);
}

}  // namespace resnode::cpu
