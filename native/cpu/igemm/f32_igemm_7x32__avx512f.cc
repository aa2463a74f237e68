// AVX-512 igemm micro-kernel (igemm_ukernel.h): a 7 x 32 tile of NHWC output in 14 zmm
// accumulators (igemm_avx512f.h), for layers whose row count leaves much of a 14-row tile empty;
// f32_conv_nhwc_indirection picks it.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include "igemm_avx512f.h"

namespace resnode::cpu {

void f32_igemm_7x32__avx512f(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a, const float* w,
                              float* c, size_t ldc, size_t a_offset, const float* zero, const GemmEpilogue* ep) {
  f32_igemm_x32_avx512f<7>(mr, nc, kc, ks, a, w, c, ldc, a_offset, zero, ep);
}

}  // namespace resnode::cpu
