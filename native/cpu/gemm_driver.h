// The cache-blocked GEMM loop around a micro-kernel, shared by conv2d and the
// fully connected gemm. C[M, N] = A[M, K] * B[K, N] with a fused epilogue.
#pragma once
#include <cstddef>

#include "config.h"

namespace resnode::cpu {

// Packs B rows [k0, k0 + kl) x columns [n0, n0 + ncols) into NR-wide panels of
// kl x nr floats (k-major), zero-padding columns >= ncols.
using pack_b_fn = void (*)(const void* ctx, size_t k0, size_t kl, size_t n0, size_t ncols,
                           float* dst);

struct GemmProblem {
  const GemmConfig* cfg = nullptr;
  size_t m = 0, n = 0, k = 0;
  // A: prepacked mr-row panels; panel p at a + p * a_panel_stride, k-major.
  const float* a = nullptr;
  size_t a_panel_stride = 0;
  // B: prepacked nr-column panels (b_packed, panel q at + q * b_panel_stride),
  // or packed on the fly, one panel just before its use, by pack_b(pack_b_ctx, ...).
  const float* b_packed = nullptr;
  size_t b_panel_stride = 0;
  pack_b_fn pack_b = nullptr;
  const void* pack_b_ctx = nullptr;
  float* c = nullptr;
  size_t ldc = 0;
  // Epilogue (see gemm/ukernel.h): bias per row (m) and/or per column (n),
  // residual with C's layout (row stride ld_residual), ReLU.
  const float* bias_m = nullptr;
  const float* bias_n = nullptr;
  const float* residual = nullptr;
  size_t ld_residual = 0;
  bool relu = false;
};

// Computes rows [m0, m1) and columns [n0, n1) of C. m0 must be a multiple of
// mr and n0 a multiple of nr (so prepacked panels line up).
void gemm_block(const GemmProblem& p, size_t m0, size_t m1, size_t n0, size_t n1);

// Splits one GEMM (repeated `units` times: images x groups) into chunks for
// `threads` threads: *mc row chunks x *nc column chunks per unit (about four
// tasks per thread, chunks of >= 4 column or >= 2 row panels).
void plan_split(size_t units, size_t m_panels, size_t n_panels, int threads, size_t* mc,
                size_t* nc);

// Bounds of chunk i of c over `total` panels of size `panel` (clamped to `limit`).
inline void chunk_range(size_t i, size_t c, size_t total_panels, size_t panel, size_t limit,
                        size_t* lo, size_t* hi) {
  const size_t p0 = i * total_panels / c, p1 = (i + 1) * total_panels / c;
  *lo = p0 * panel;
  *hi = p1 * panel < limit ? p1 * panel : limit;
}

}  // namespace resnode::cpu
