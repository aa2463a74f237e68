// One row of a broadcast add/sub/mul/div (with optional ReLU) on scalar.
#include "elementwise_impl.h"

namespace resnode::cpu {

void f32_vbinary__scalar(BinaryFn fn, bool relu, const float* a, int64_t sa, const float* b, int64_t sb,
                      float* y, int64_t n) {
  impl::vbinary<vec::Scalar>(fn, relu, a, sa, b, sb, y, n);
}

}  // namespace resnode::cpu
