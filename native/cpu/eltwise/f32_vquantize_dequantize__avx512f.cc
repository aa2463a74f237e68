// QuantizeLinear -> DequantizeLinear of an activation on avx512f.
#include "elementwise_impl.h"

namespace resnode::cpu {

void f32_vquantize_dequantize__avx512f(const float* x, int64_t n, const QuantizeDequantize& q, float* y) {
  impl::vquantize_dequantize<vec::Avx512>(x, n, q, y);
}

}  // namespace resnode::cpu
