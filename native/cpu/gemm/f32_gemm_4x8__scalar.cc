// Portable micro-kernel: a 4 x 8 tile of C. Compiled with no ISA flags, so it
// runs on any x86-64 (the compiler may still use SSE2).
#include "ukernel.h"

namespace resnode::cpu {

void f32_gemm_4x8__scalar(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                             float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep) {
  constexpr int MR = 4, NR = 8;
  float acc[MR][NR] = {};
  for (size_t k = 0; k < kc; ++k) {
    for (int i = 0; i < MR; ++i) {
      const float ai = a[i];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
    a += MR;
    b += ldb;
  }
  for (size_t i = 0; i < mr; ++i) {
    float* ci = c + i * ldc;
    for (size_t j = 0; j < nc; ++j) {
      float v = acc[i][j];
      if (accumulate) v += ci[j];
      if (ep) {
        if (ep->bias_m) v += ep->bias_m[i];
        if (ep->bias_n) v += ep->bias_n[j];
        if (ep->residual) v += ep->residual[i * ep->ld_residual + j];
        v = ep->act.apply(v);  // NaN passes through
      }
      ci[j] = v;
    }
  }
}

}  // namespace resnode::cpu
