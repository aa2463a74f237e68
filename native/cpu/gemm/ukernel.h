// The f32 GEMM micro-kernel contract shared by every ISA.
//
// A micro-kernel computes one MR x NR tile of C = A * B over kc steps:
//   a: packed A micro-panel, k-major: a[k * MR + i] is A[i, k] (rows >= mr are zero).
//   b: B micro-panel, k-major: b[k * ldb + j] is B[k, j] (ldb >= NR; all NR
//      columns of each row are read). Packed panels have ldb == NR and zeros
//      in columns >= nc.
//   c: the tile origin in C; row i lives at c + i * ldc. Only rows < mr and
//      columns < nc are read or written.
//   accumulate: add the tile's current contents of C (K is split in blocks).
//   ep: null for a K block that is not the last one; otherwise the fused
//      epilogue applied as the tile is stored:
//        C = clamp( acc (+ C) + bias_m[i] + bias_n[j] + residual[i, j], act.lo, act.hi )
#pragma once
#include <cstddef>

#include "../clamp.h"

namespace resnode::cpu {

struct GemmEpilogue {
  const float* bias_m = nullptr;    // per tile row (output channel), or null
  const float* bias_n = nullptr;    // per tile column (FC output), or null
  const float* residual = nullptr;  // tile origin in the residual tensor, or null
  size_t ld_residual = 0;
  Clamp act;  // ReLU, ReLU6, Clip; none by default
};

using f32_gemm_ukernel_fn = void (*)(size_t mr, size_t nc, size_t kc, const float* a,
                                     const float* b, size_t ldb, float* c, size_t ldc,
                                     bool accumulate, const GemmEpilogue* ep);

void f32_gemm_14x32__avx512f(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                             float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);
void f32_gemm_8x32__avx512f(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                            float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);
void f32_gemm_1x32__avx512f(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                            float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);
void f32_gemm_14x16__avx512f(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                             float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);
void f32_gemm_8x16__avx512f(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                            float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);
void f32_gemm_14x1__avx512f(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                            float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);
void f32_gemm_8x1__avx512f(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                           float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);
void f32_gemm_6x16__avx2(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                             float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);
void f32_gemm_8x8__neon(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                        float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);
void f32_gemm_4x8__scalar(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                             float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);

// AVX512_BF16 kernels (gemm_avx512bf16.h): a and b hold bf16 pairs along K, one
// pair per 32-bit word, and kc counts pairs; c and the epilogue are fp32.
void bf16_gemm_14x32__avx512bf16(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                                 float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);
void bf16_gemm_8x32__avx512bf16(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                                float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);
void bf16_gemm_14x16__avx512bf16(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                                 float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);
void bf16_gemm_8x16__avx512bf16(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                                float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep);

}  // namespace resnode::cpu
