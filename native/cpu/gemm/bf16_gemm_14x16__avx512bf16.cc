// AVX512_BF16 micro-kernel: a 14 x 16 tile of C in 14 zmm accumulators, K in bf16 pairs.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 (by file name).
#include "gemm_avx512bf16.h"

namespace resnode::cpu {

void bf16_gemm_14x16__avx512bf16(size_t mr, size_t nc, size_t kc, const float* a, const float* b,
                               size_t ldb, float* c, size_t ldc, bool accumulate,
                               const GemmEpilogue* ep) {
  gemm_avx512bf16<14, 1>(mr, nc, kc, a, b, ldb, c, ldc, accumulate, ep);
}

}  // namespace resnode::cpu
