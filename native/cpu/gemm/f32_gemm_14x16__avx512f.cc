// AVX-512 micro-kernel: a 14 x 16 tile of C in 14 zmm accumulators: for column tails of at most 16 (reads the first 16 columns of a 32-wide B panel).
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include "gemm_avx512f.h"

namespace resnode::cpu {

void f32_gemm_14x16__avx512f(size_t mr, size_t nc, size_t kc, const float* a, const float* b,
                             size_t ldb, float* c, size_t ldc, bool accumulate,
                             const GemmEpilogue* ep) {
  gemm_avx512f<14, 1>(mr, nc, kc, a, b, ldb, c, ldc, accumulate, ep);
}

}  // namespace resnode::cpu
