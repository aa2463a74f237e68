#include "gemm_driver.h"

#include <algorithm>
#include <numeric>

#include "common.h"

namespace resnode::cpu {

void gemm_block(const GemmProblem& p, size_t m0, size_t m1, size_t n0, size_t n1) {
  const GemmConfig& cfg = *p.cfg;
  const size_t MR = cfg.mr, NR = cfg.nr;
  RN_CHECK(m0 % MR == 0 && n0 % NR == 0 && m1 <= p.m && n1 <= p.n);
  if (m0 >= m1 || n0 >= n1 || p.k == 0) return;
  const size_t nk = div_up(p.k, cfg.kc);
  const size_t kcs = div_up(p.k, nk);
  const size_t ncb = cfg.nc;
  float* bbuf = p.b_packed ? nullptr : thread_scratch(0, kcs * NR);
  const f32_gemm_ukernel_fn uk = cfg.ukernel;
  // residual == C (y += conv(x)): accumulate onto C from the first K block
  // instead of reading the residual in the epilogue (C is overwritten early).
  const bool in_place = p.residual && p.residual == p.c && p.ld_residual == p.ldc;
  const float* residual = in_place ? nullptr : p.residual;

  // Loops: n block (nc columns) > k block (kc) > n panel (nr) > m panel (mr).
  // The A panels of one k block (m x kc) are reused by every n panel of the
  // block from L2; each B panel (kc x nr, packed just before use) stays in L1
  // while every m panel runs over it.
  for (size_t nb = n0; nb < n1; nb += ncb) {
    const size_t ncols = std::min(ncb, n1 - nb);
    for (size_t kb = 0; kb < nk; ++kb) {
      const size_t k0 = kb * kcs, kl = std::min(kcs, p.k - k0);
      const bool last = kb + 1 == nk;
      GemmEpilogue ep;
      ep.relu = p.relu;
      ep.ld_residual = p.ld_residual;
      for (size_t j = 0; j < ncols; j += NR) {
        const size_t cols = std::min(NR, ncols - j);
        const size_t col = nb + j;
        const float* b;
        const size_t ldb = NR;
        if (p.b_packed) {
          b = p.b_packed + (col / NR) * p.b_panel_stride + k0 * NR;
        } else {
          p.pack_b(p.pack_b_ctx, k0, kl, col, cols, bbuf);
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
          const float* a = p.a + (m / MR) * p.a_panel_stride + k0 * MR;
          float* c = p.c + m * p.ldc + col;
          ep.bias_m = p.bias_m ? p.bias_m + m : nullptr;
          ep.residual = residual ? residual + m * p.ld_residual + col : nullptr;
          const bool acc = kb > 0 || in_place;
          if (vec_cols) kern(rows, vec_cols, kl, a, b, ldb, c, p.ldc, acc, last ? &ep : nullptr);
          for (size_t jj = vec_cols; jj < vec_cols + col_cols; ++jj) {
            GemmEpilogue ec = ep;
            ec.bias_n = ep.bias_n ? ep.bias_n + jj : nullptr;
            ec.residual = ep.residual ? ep.residual + jj : nullptr;
            cfg.ukernel_col(rows, 1, kl, a, b + jj, ldb, c + jj, p.ldc, acc, last ? &ec : nullptr);
          }
        }
      }
    }
  }
}

void plan_split(size_t units, size_t m_panels, size_t n_panels, int threads, size_t* mc,
                size_t* nc) {
  *mc = *nc = 1;
  const size_t t = size_t(std::max(threads, 1));
  if (t == 1 || units >= 4 * t) return;  // enough units to balance dynamically
  // Aim at ~4 tasks per thread: threads pull tasks from a shared counter, so a
  // thread that is slow (or preempted on a busy machine) does not hold up the
  // others. Split columns first (each chunk packs only its own B panels) while
  // chunks keep >= 4 panels; split rows (chunks of >= 2 panels) when the
  // columns are too few, e.g. 7x7 and 14x14 outputs.
  const size_t want = div_up(4 * t, units);
  const size_t n_split = std::min(want, std::max<size_t>(1, n_panels / 4));
  const size_t m_max = std::max<size_t>(1, m_panels / 2);
  size_t m_split = 1;
  if (n_split == 1) m_split = std::min(want, m_max);
  else if (n_split < 2 * t && units * n_split < 4 * t) m_split = std::min(div_up(want, n_split), m_max);
  *nc = n_split;
  *mc = m_split;
}

}  // namespace resnode::cpu
