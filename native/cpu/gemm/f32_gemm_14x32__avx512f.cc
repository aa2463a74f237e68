// AVX-512 micro-kernel: a 14 x 32 tile of C in 28 zmm accumulators: the default when M is not a multiple of 8.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include "gemm_avx512f.h"

namespace resnode::cpu {

void f32_gemm_14x32__avx512f(size_t mr, size_t nc, size_t kc, const float* a, const float* b,
                             size_t ldb, float* c, size_t ldc, bool accumulate,
                             const GemmEpilogue* ep) {
  gemm_avx512f<14, 2>(mr, nc, kc, a, b, ldb, c, ldc, accumulate, ep);
}

}  // namespace resnode::cpu
