// The micro-kernel table: one GEMM configuration per ISA, chosen once.
// A packed weight handle stores a pointer to the config it was packed with, so
// changing the active ISA later never invalidates existing packings.
#pragma once
#include <cstddef>

#include "gemm/ukernel.h"
#include "im2col.h"
#include "ops.h"

namespace resnode::cpu {

struct GemmConfig {
  Isa isa;
  size_t mr, nr;
  f32_gemm_ukernel_fn ukernel;
  // Optional: the same mr with nr / 2 columns, for column tails of at most
  // nr / 2 (it reads the first half of an nr-wide packed panel), or null.
  f32_gemm_ukernel_fn ukernel_half;
  // Optional: one column (nc == 1) with the same mr, for column tails of 1-2, or null.
  f32_gemm_ukernel_fn ukernel_col;
  im2col_pack_fn im2col;  // activations -> nr-wide B panels (conv2d)
  const char* ukernel_name;
  // Cache blocking: K block (rows of a B panel kept hot) and N block (columns
  // of packed B kept in L2).
  size_t kc, nc;
  // Only for M of at most this many rows (0: any M).
  size_t max_m = 0;
};

// The micro-kernel for `isa` that wastes the fewest padded rows on an M of m
// rows (m == 0: the ISA's default kernel).
const GemmConfig& gemm_config(Isa isa, size_t m = 0);

// The K block the GEMM driver uses for a K of k (at most cfg.kc, equal sizes).
inline size_t gemm_k_block(const GemmConfig& cfg, size_t k) {
  const size_t nk = (k + cfg.kc - 1) / cfg.kc;
  return nk ? (k + nk - 1) / nk : 0;
}

// Where panel p's slice of K block [k0, ...) starts in a pack_panels()
// packing of `padded` rows (a multiple of `width`) and K k, in blocks of
// k_block (k0 is a multiple of k_block, or k_block == k): A panels (width mr)
// or B panels (width nr).
inline const float* packed_panel(const float* packed, size_t padded, size_t k, size_t width,
                                 size_t k_block, size_t k0, size_t p) {
  const size_t b0 = k_block ? k0 / k_block * k_block : 0;
  const size_t len = k - b0 < k_block ? k - b0 : k_block;
  return packed + b0 * padded + p * len * width + (k0 - b0) * width;
}

}  // namespace resnode::cpu
