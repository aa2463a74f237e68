// AVX-512 micro-kernel: a 14 x 1 tile of C (one column; rows are vector lanes),
// for column tails of 1-2 next to 14-row A panels.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include "gemm_avx512f.h"

namespace resnode::cpu {

void f32_gemm_14x1__avx512f(size_t mr, size_t nc, size_t kc, const float* a, const float* b,
                            size_t ldb, float* c, size_t ldc, bool accumulate,
                            const GemmEpilogue* ep) {
  (void)nc;  // always 1
  gemm_col_avx512f<14>(mr, kc, a, b, ldb, c, ldc, accumulate, ep);
}

}  // namespace resnode::cpu
