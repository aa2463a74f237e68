// Portable igemm micro-kernel (igemm_ukernel.h): a 4 x 8 tile of NHWC output. Compiled with no
// ISA flags, so it runs on any CPU of the architecture.
#include "igemm_ukernel.h"

namespace resnode::cpu {

void f32_igemm_4x8__scalar(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a, const float* w, float* c,
                           size_t ldc, size_t a_offset, const float* zero, const GemmEpilogue* ep) {
  constexpr int MR = 4, NR = 8;
  float acc[MR][NR] = {};
  for (size_t t = 0; t < ks; ++t) {
    const float* row[MR];
    for (int i = 0; i < MR; ++i) row[i] = igemm_row(a[i], a_offset, zero);
    a += MR;
    for (size_t k = 0; k < kc; ++k) {
      for (int i = 0; i < MR; ++i) {
        const float ai = row[i][k];
        for (int j = 0; j < NR; ++j) acc[i][j] += ai * w[j];
      }
      w += NR;
    }
  }
  for (size_t i = 0; i < mr; ++i) {
    float* ci = c + i * ldc;
    for (size_t j = 0; j < nc; ++j) {
      float v = acc[i][j];
      if (ep) {
        if (ep->bias_n) v += ep->bias_n[j];
        if (ep->residual) v += ep->residual[i * ep->ld_residual + j];
        v = ep->act.apply(v);  // NaN passes through
      }
      ci[j] = v;
    }
  }
}

}  // namespace resnode::cpu
