// QuantizeLinear -> DequantizeLinear of an activation on avx2.
#include "elementwise_impl.h"

namespace resnode::cpu {

void f32_vquantize_dequantize__avx2(const float* x, int64_t n, const QuantizeDequantize& q, float* y) {
  impl::vquantize_dequantize<vec::Avx2>(x, n, q, y);
}

}  // namespace resnode::cpu
