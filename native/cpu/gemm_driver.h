// The cache-blocked GEMM loop around a micro-kernel, shared by conv2d and the
// fully connected gemm. C[M, N] = A[M, K] * B[K, N] with a fused epilogue.
#pragma once
#include <cstddef>

#include "activation.h"
#include "clamp.h"
#include "config.h"
#include "work_split.h"

namespace resnode::cpu {

// Packs B rows [k0, k0 + kl) x columns [n0, n0 + ncols) of batch item `item`
// into NR-wide panels of kl x nr floats (k-major), zero-padding columns >= ncols.
using pack_b_fn = void (*)(const void* ctx, size_t item, size_t k0, size_t kl, size_t n0,
                           size_t ncols, float* dst);

// `batch` GEMMs that share A (the weights of a convolution over a batch of
// images): item b has its own B, C (c + b * c_batch_stride) and residual
// (residual + b * residual_batch_stride). Sharing A lets one K block of it
// stay in L2 across every image instead of being re-read per image.
struct GemmProblem {
  const GemmConfig* cfg = nullptr;
  size_t m = 0, n = 0, k = 0;
  size_t batch = 1;
  size_t c_batch_stride = 0, residual_batch_stride = 0;
  // A: prepacked mr-row panels of a_rows rows (m rounded up to mr), in K
  // blocks of a_k_block (config.h's packed_panel); a_k_block must be the driver's
  // K block (gemm_k_block) or the whole K.
  const float* a = nullptr;
  size_t a_rows = 0, a_k_block = 0;
  // B: prepacked nr-column panels of one item (b_packed: b_cols columns, n
  // rounded up to nr, in K blocks of b_k_block, as A), or packed on the fly,
  // one panel just before its use, by pack_b(pack_b_ctx, ...).
  const float* b_packed = nullptr;
  size_t b_cols = 0, b_k_block = 0;
  pack_b_fn pack_b = nullptr;
  const void* pack_b_ctx = nullptr;
  float* c = nullptr;
  size_t ldc = 0;
  // Epilogue (see gemm/ukernel.h): bias per row (m) and/or per column (n),
  // residual with C's layout (row stride ld_residual), the clamp (ReLU, ReLU6, Clip).
  const float* bias_m = nullptr;
  const float* bias_n = nullptr;
  const float* residual = nullptr;
  size_t ld_residual = 0;
  Clamp act;
  Activation f;  // applied to each finished tile, after the epilogue
};

// The nr-column panels of C over the whole batch: panel q is panel
// q % panels_per_item(p) of item q / panels_per_item(p).
inline size_t panels_per_item(const GemmProblem& p) { return (p.n + p.cfg->nr - 1) / p.cfg->nr; }

// Computes rows [m0, m1) of column panels [q0, q1) of C. m0 must be a
// multiple of mr (so prepacked panels line up).
void gemm_block(const GemmProblem& p, size_t m0, size_t m1, size_t q0, size_t q1);

}  // namespace resnode::cpu
