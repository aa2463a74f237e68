// The unary elementwise kernels (sigmoid, silu, hard sigmoid/swish, clip, erf) on avx2.
#include "elementwise_impl.h"

namespace resnode::cpu {

void f32_vunary__avx2(UnaryFn fn, float alpha, float beta, const float* x, float* y, int64_t n) {
  impl::vunary<vec::Avx2>(fn, alpha, beta, x, y, n);
}

}  // namespace resnode::cpu
