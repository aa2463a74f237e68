// One row of a broadcast add/sub/mul/div (with optional ReLU) on avx2.
#include "elementwise_impl.h"

namespace resnode::cpu {

void f32_vbinary__avx2(BinaryFn fn, bool relu, const float* a, int64_t sa, const float* b, int64_t sb,
                      float* y, int64_t n) {
  impl::vbinary<vec::Avx2>(fn, relu, a, sa, b, sb, y, n);
}

}  // namespace resnode::cpu
