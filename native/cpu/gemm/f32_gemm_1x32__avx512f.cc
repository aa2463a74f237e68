// AVX-512 micro-kernel: a 1 x 32 tile of C, for a single row (a fully
// connected layer at batch 1), where B (the weights) is the operand that streams.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include "gemm_avx512f.h"

namespace resnode::cpu {

void f32_gemm_1x32__avx512f(size_t mr, size_t nc, size_t kc, const float* a, const float* b,
                            size_t ldb, float* c, size_t ldc, bool accumulate,
                            const GemmEpilogue* ep) {
  gemm_avx512f<1, 2>(mr, nc, kc, a, b, ldb, c, ldc, accumulate, ep);
}

}  // namespace resnode::cpu
