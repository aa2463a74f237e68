// AVX512_BF16 micro-kernel: a 8 x 32 tile of C in 16 zmm accumulators, K in bf16 pairs.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 (by file name).
#include "gemm_avx512bf16.h"

namespace resnode::cpu {

void bf16_gemm_8x32__avx512bf16(size_t mr, size_t nc, size_t kc, const float* a, const float* b,
                               size_t ldb, float* c, size_t ldc, bool accumulate,
                               const GemmEpilogue* ep) {
  gemm_avx512bf16<8, 2>(mr, nc, kc, a, b, ldb, c, ldc, accumulate, ep);
}

}  // namespace resnode::cpu
