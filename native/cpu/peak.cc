// measure_fma_peak_gflops: the FMA loop of the active ISA on `threads` threads at once.
#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "arch.h"
#include "bf16.h"
#include "common.h"
#include "isa.h"
#include "ops.h"
#include "peak.h"

namespace resnode::cpu {

double fma_loop__scalar(int64_t iters) {
  float acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = float(i) * 1e-3f;
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  double total = 0;
  for (float v : acc) total += v;
  return total;
}

namespace {

// The best of 10 runs of `loop` on `threads` threads at once, in GFLOP/s.
// Best, since a shared VM loses a core now and then and a low peak would
// flatter "% of peak".
double best_rate(double (*loop)(int64_t), int64_t iters, double flops_per_iter, int threads) {
  double best = 0;
  for (int rep = 0; rep < 10; ++rep) {
    std::vector<double> sink(static_cast<size_t>(threads));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { sink[size_t(t)] = loop(iters); });
    for (auto& th : pool) th.join();
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, double(threads) * double(iters) * flops_per_iter / sec / 1e9);
  }
  return best;
}

}  // namespace

double measure_fma_peak_gflops(int threads) {
  threads = std::max(1, threads);
  const Isa isa = active_isa();
  int lanes = 1;
  double (*loop)(int64_t) = fma_loop__scalar;
#if RN_ARCH_X86_64
  if (isa == Isa::avx512) lanes = 16, loop = fma_loop__avx512f;
  if (isa == Isa::avx2) lanes = 8, loop = fma_loop__avx2;
#endif
#if RN_ARCH_ARM64
  if (isa == Isa::neon) lanes = 4, loop = fma_loop__neon;
#endif
  // About 20 ms per run at ~165 GFLOP/s per core.
  const int64_t iters = int64_t(4e8) / (12 * lanes) * (lanes == 1 ? 1 : 4);
  return best_rate(loop, iters, 12.0 * 2.0 * lanes, threads);
}

double measure_vnni_peak_gops(int threads) {
  RN_CHECK(cpu_features().avx512_vnni);
#if RN_ARCH_X86_64
  // Runs of about 1 ms (1.8M instructions), not the FMA loop's 20 ms: on this shared VM a 20 ms
  // run nearly always loses its core for part of the time, and measured 200-270 GOP/s against
  // 700-720 from 1 ms runs (native/cpu/tests/qgemm_test.cc bench), under the int8 kernels' rate.
  const int64_t iters = 150000;
  return best_rate(dpbusd_loop__avx512vnni, iters, 12.0 * 2.0 * 4.0 * 16, std::max(1, threads));
#else
  return 0;
#endif
}

double measure_bf16_peak_gflops(int threads) {
  RN_CHECK(bf16_available());
#if RN_ARCH_X86_64
  // The same instruction count per run as the AVX-512 FMA loop.
  const int64_t iters = int64_t(4e8) / (12 * 16) * 4;
  return best_rate(dpbf16_loop__avx512bf16, iters, 12.0 * 2.0 * 2.0 * 16, std::max(1, threads));
#else
  return 0;
#endif
}

}  // namespace resnode::cpu
