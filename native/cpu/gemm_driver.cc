#include "gemm_driver.h"

#include <algorithm>
#include <numeric>

#include "common.h"

namespace resnode::cpu {

void gemm_block(const GemmProblem& p, size_t m0, size_t m1, size_t q0, size_t q1) {
  const GemmConfig& cfg = *p.cfg;
  const size_t MR = cfg.mr, NR = cfg.nr;
  const size_t ppi = panels_per_item(p);
  RN_CHECK(m0 % MR == 0 && m1 <= p.m && q1 <= p.batch * ppi);
  if (m0 >= m1 || q0 >= q1 || p.k == 0) return;
  const size_t kcs = gemm_k_block(cfg, p.k);
  const size_t nk = div_up(p.k, kcs);
  RN_CHECK(p.a_k_block == kcs || p.a_k_block == p.k);
  RN_CHECK(!p.b_packed || (p.batch == 1 && (p.b_k_block == kcs || p.b_k_block == p.k)));
  const size_t qb = std::max<size_t>(1, cfg.nc / NR);  // panels per N block
  float* bbuf = p.b_packed ? nullptr : thread_scratch(0, kcs * NR);
  const f32_gemm_ukernel_fn uk = cfg.ukernel;
  // residual == C (y += conv(x)): accumulate onto C from the first K block
  // instead of reading the residual in the epilogue (C is overwritten early).
  const bool in_place = p.residual && p.residual == p.c && p.ld_residual == p.ldc &&
                        p.residual_batch_stride == p.c_batch_stride;

  // Loops: n block (nc columns) > k block (kc) > n panel (nr) > m panel (mr).
  // The A panels of one k block (m x kc) are reused by every n panel of the
  // block from L2; each B panel (kc x nr, packed just before use) stays in L1
  // while every m panel runs over it. An n block may span several batch items.
  for (size_t qs = q0; qs < q1; qs += qb) {
    const size_t qe = std::min(q1, qs + qb);
    for (size_t kb = 0; kb < nk; ++kb) {
      const size_t k0 = kb * kcs, kl = std::min(kcs, p.k - k0);
      const bool last = kb + 1 == nk;
      GemmEpilogue ep;
      ep.act = p.act;
      ep.ld_residual = p.ld_residual;
      for (size_t q = qs; q < qe; ++q) {
        const size_t item = q / ppi, col = (q % ppi) * NR;
        const size_t cols = std::min(NR, p.n - col);
        float* citem = p.c + item * p.c_batch_stride;
        const float* residual =
            p.residual && !in_place ? p.residual + item * p.residual_batch_stride : nullptr;
        const float* b;
        const size_t ldb = NR;
        if (p.b_packed) {
          b = packed_panel(p.b_packed, p.b_cols, p.k, NR, p.b_k_block, k0, q);
        } else {
          p.pack_b(p.pack_b_ctx, item, k0, kl, col, cols, bbuf);
          b = bbuf;
        }
        ep.bias_n = p.bias_n ? p.bias_n + col : nullptr;
        // Column tails: a tail of <= nr/2 runs the half-width kernel; 1-2
        // columns beyond a multiple of nr/2 (e.g. 49 = 32 + 16 + 1) run the
        // one-column kernel instead of a mostly empty vector.
        size_t vec_cols = cols, col_cols = 0;
        f32_gemm_ukernel_fn kern = uk;
        if (cols < NR && cfg.ukernel_half) {
          const size_t half = NR / 2, rem = cols % half;
          if (cfg.ukernel_col && rem != 0 && rem <= 2) {
            col_cols = rem;
            vec_cols = cols - rem;
          }
          if (vec_cols <= half) kern = cfg.ukernel_half;
        }
        for (size_t m = m0; m < m1; m += MR) {
          const size_t rows = std::min(MR, m1 - m);
          const float* a = packed_panel(p.a, p.a_rows, p.k, MR, p.a_k_block, k0, m / MR);
          float* c = citem + m * p.ldc + col;
          ep.bias_m = p.bias_m ? p.bias_m + m : nullptr;
          ep.residual = residual ? residual + m * p.ld_residual + col : nullptr;
          const bool acc = kb > 0 || in_place;
          if (last && p.f.active() && cols != p.ldc && m > m0)  // the previous tile's rows
            for (size_t i = m - MR; i < m; ++i) p.f.apply(citem + i * p.ldc + col, int64_t(cols));
          if (vec_cols) kern(rows, vec_cols, kl, a, b, ldb, c, p.ldc, acc, last ? &ep : nullptr);
          for (size_t jj = vec_cols; jj < vec_cols + col_cols; ++jj) {
            GemmEpilogue ec = ep;
            ec.bias_n = ep.bias_n ? ep.bias_n + jj : nullptr;
            ec.residual = ep.residual ? ep.residual + jj : nullptr;
            cfg.ukernel_col(rows, 1, kl, a, b + jj, ldb, c + jj, p.ldc, acc, last ? &ec : nullptr);
          }
        }
        // The activation, on the tile before (still in L1) rather than on the
        // one just stored, whose (masked) vectors a load cannot take from the
        // store buffer without stalling; the panel's last tile after the loop.
        // A panel as wide as C (a 1x1 conv on 1x1 or a few pixels: the SE
        // gate) is one contiguous block: one call, in vectors, not a short
        // scalar-tailed call per row.
        if (last && p.f.active() && cols == p.ldc)
          p.f.apply(citem + m0 * p.ldc, int64_t((m1 - m0) * cols));
        else if (last && p.f.active())
          for (size_t i = m0 + (m1 - m0 - 1) / MR * MR; i < m1; ++i)  // the last tile's rows
            p.f.apply(citem + i * p.ldc + col, int64_t(cols));
      }
    }
  }
}

}  // namespace resnode::cpu
