// Fully connected layer: y[m, n] = x[m, k] . W[n, k]^T + bias[n].
// A = x packed into mr-row panels per call; B = W^T prepacked (pack_gemm).
#include <algorithm>

#include "common.h"
#include "gemm_driver.h"
#include "ops.h"
#include "pack.h"
#include "threadpool.h"

namespace resnode::cpu {

namespace {

// B (= W^T) was packed for w.cfg's nr; any kernel of that ISA shares nr, so
// pick the one with the fewest padded rows for this m.
const GemmConfig& config_for(const PackedGemm& w, int64_t m) {
  const GemmConfig& cfg = gemm_config(w.cfg->isa, size_t(m));
  RN_CHECK(cfg.nr == w.cfg->nr && cfg.kc == w.cfg->kc);
  return cfg;
}

}  // namespace

const char* gemm_kernel(const PackedGemm& w, int64_t m) { return config_for(w, m).ukernel_name; }

void gemm(const PackedGemm& w, const float* x, int64_t m, bool relu, float* y, int threads) {
  RN_CHECK(x && y && m > 0 && w.weights);
  const GemmConfig& cfg = config_for(w, m);
  const size_t M = size_t(m), N = size_t(w.n_out), K = size_t(w.k);
  if (threads <= 0) threads = global_threads();
  const int t = threads_for_work(2.0 * double(M) * double(N) * double(K), threads);
  // x packed into mr-row panels in this thread's scratch (read by the pool
  // workers too; this thread waits for them), so a run allocates nothing.
  float* apack = thread_scratch(1, round_up(M, cfg.mr) * K);
  const size_t a_k_block = gemm_k_block(cfg, K);
  pack_panels(x, K, M, K, cfg.mr, a_k_block, apack);
  GemmProblem p;
  p.cfg = &cfg;
  p.m = M;
  p.n = N;
  p.k = K;
  p.a = apack;
  p.a_rows = round_up(M, cfg.mr);
  p.a_k_block = a_k_block;
  p.b_packed = w.weights.get();
  p.b_cols = round_up(N, cfg.nr);
  p.b_k_block = w.k_block;
  p.c = y;
  p.ldc = N;
  p.bias_n = w.bias_or_null();
  p.act = Clamp::relu(relu);
  const size_t m_panels = div_up(M, cfg.mr), n_panels = div_up(N, cfg.nr);
  // Split columns first (weights are the big operand), rows when there are many.
  const size_t tasks_n = std::min(n_panels, size_t(t) * kTasksPerThread);
  const size_t tasks_m = std::min(m_panels, std::max<size_t>(1, size_t(t) * kTasksPerThread / tasks_n));
  parallel_for(tasks_m * tasks_n, t, [&](size_t task) {
    size_t m0, m1, q0, q1;
    chunk_range(task / tasks_n, tasks_m, m_panels, cfg.mr, M, &m0, &m1);
    chunk_range(task % tasks_n, tasks_n, n_panels, 1, n_panels, &q0, &q1);
    gemm_block(p, m0, m1, q0, q1);
  });
}

}  // namespace resnode::cpu
