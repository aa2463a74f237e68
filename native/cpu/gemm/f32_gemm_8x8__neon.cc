// arm64 micro-kernel: an 8 x 8 tile of C in 16 q-register accumulators
// (row i, columns 0-3 and 4-7), one FMA by lane per A element. NEON is part of
// the arm64 base architecture, so this file needs no ISA flags.
#include <arm_neon.h>

#include "ukernel.h"

namespace resnode::cpu {
namespace {

// The fused epilogue on four columns of one row, as the tile is stored.
inline float32x4_t epilogue4(float32x4_t v, const float* c, bool accumulate, const GemmEpilogue* ep,
                             size_t i, size_t j) {
  if (accumulate) v = vaddq_f32(v, vld1q_f32(c));
  if (ep) {
    if (ep->bias_m) v = vaddq_f32(v, vdupq_n_f32(ep->bias_m[i]));
    if (ep->bias_n) v = vaddq_f32(v, vld1q_f32(ep->bias_n + j));
    if (ep->residual) v = vaddq_f32(v, vld1q_f32(ep->residual + i * ep->ld_residual + j));
    // vmaxq_f32 would turn NaN into 0; keep NaN as the scalar kernel does.
    // NaN passes through: both compares are false for it.
    v = vbslq_f32(vcltq_f32(v, vdupq_n_f32(ep->act.lo)), vdupq_n_f32(ep->act.lo), v);
    v = vbslq_f32(vcgtq_f32(v, vdupq_n_f32(ep->act.hi)), vdupq_n_f32(ep->act.hi), v);
  }
  return v;
}

inline float epilogue1(float v, const float* c, bool accumulate, const GemmEpilogue* ep, size_t i,
                       size_t j) {
  if (accumulate) v += *c;
  if (ep) {
    if (ep->bias_m) v += ep->bias_m[i];
    if (ep->bias_n) v += ep->bias_n[j];
    if (ep->residual) v += ep->residual[i * ep->ld_residual + j];
    v = ep->act.apply(v);  // NaN passes through
  }
  return v;
}

}  // namespace

void f32_gemm_8x8__neon(size_t mr, size_t nc, size_t kc, const float* a, const float* b, size_t ldb,
                        float* c, size_t ldc, bool accumulate, const GemmEpilogue* ep) {
  constexpr size_t MR = 8, NR = 8;
  float32x4_t lo[MR], hi[MR];
  for (size_t i = 0; i < MR; ++i) lo[i] = hi[i] = vdupq_n_f32(0.0f);
  for (size_t k = 0; k < kc; ++k) {
    const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
    lo[0] = vfmaq_laneq_f32(lo[0], b0, a0, 0), hi[0] = vfmaq_laneq_f32(hi[0], b1, a0, 0);
    lo[1] = vfmaq_laneq_f32(lo[1], b0, a0, 1), hi[1] = vfmaq_laneq_f32(hi[1], b1, a0, 1);
    lo[2] = vfmaq_laneq_f32(lo[2], b0, a0, 2), hi[2] = vfmaq_laneq_f32(hi[2], b1, a0, 2);
    lo[3] = vfmaq_laneq_f32(lo[3], b0, a0, 3), hi[3] = vfmaq_laneq_f32(hi[3], b1, a0, 3);
    lo[4] = vfmaq_laneq_f32(lo[4], b0, a1, 0), hi[4] = vfmaq_laneq_f32(hi[4], b1, a1, 0);
    lo[5] = vfmaq_laneq_f32(lo[5], b0, a1, 1), hi[5] = vfmaq_laneq_f32(hi[5], b1, a1, 1);
    lo[6] = vfmaq_laneq_f32(lo[6], b0, a1, 2), hi[6] = vfmaq_laneq_f32(hi[6], b1, a1, 2);
    lo[7] = vfmaq_laneq_f32(lo[7], b0, a1, 3), hi[7] = vfmaq_laneq_f32(hi[7], b1, a1, 3);
    a += MR;
    b += ldb;
  }
  for (size_t i = 0; i < mr; ++i) {
    float* ci = c + i * ldc;
    if (nc == NR) {
      vst1q_f32(ci, epilogue4(lo[i], ci, accumulate, ep, i, 0));
      vst1q_f32(ci + 4, epilogue4(hi[i], ci + 4, accumulate, ep, i, 4));
      continue;
    }
    // A column tail: spill the row and store only its first nc columns.
    float row[NR];
    vst1q_f32(row, lo[i]);
    vst1q_f32(row + 4, hi[i]);
    for (size_t j = 0; j < nc; ++j) ci[j] = epilogue1(row[j], ci + j, accumulate, ep, i, j);
  }
}

}  // namespace resnode::cpu
