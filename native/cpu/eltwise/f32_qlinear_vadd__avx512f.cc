// ONNX Runtime's QLinearAdd on dequantized operands on avx512f.
#include "elementwise_impl.h"

namespace resnode::cpu {

void f32_qlinear_vadd__avx512f(const float* a, const float* b, int64_t n, const QLinearAdd& p, float* y) {
  impl::qlinear_vadd<vec::Avx512>(a, b, n, p, y);
}

}  // namespace resnode::cpu
