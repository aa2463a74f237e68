// Standalone correctness, error and speed harness for the Winograd F(4x4,3x3)
// and F(2x2,3x3) fast paths (not built by npm).
//
// Build (from the repository root):
//   sh native/cpu/tests/build.sh /tmp/winograd_test native/cpu/winograd/tests/winograd_test.cc
// i.e. g++ -std=c++17 -O3 -DNDEBUG -pthread, each of native/cpu/*.cc,
// native/cpu/gemm/*.cc and native/cpu/winograd/*.cc compiled on its own
// (*__avx512f.cc with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma,
// *__avx2.cc with -mavx2 -mfma), then linked with this file.
// Run:
//   /tmp/winograd_test check [count=300]    # random shapes vs float64, every ISA + strategy
//   /tmp/winograd_test error                # max error on ResNet 3x3 shapes vs float64
//   /tmp/winograd_test bench [shape substr] [seconds per row=1.5] # winograd vs the exact conv2d, batch 1/8, 1/2 threads
//                                          (WINO_TILE=2: F(2x2,3x3); WINO_BATCHES=1,2: the batches)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <ctime>
#include <vector>

#include "../../ops.h"
#include "../../threadpool.h"
#include "../winograd.h"
#include "../winograd_kernels.h"

using namespace resnode::cpu;

namespace {

void ref_conv(const Conv2dShape& s, const float* x, const float* w, const float* bias,
              const float* res, bool relu, std::vector<double>& y) {
  y.assign(size_t(s.n * s.c_out * s.out_h * s.out_w), 0.0);
  std::vector<double> acc(size_t(s.out_h * s.out_w));
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t oc = 0; oc < s.c_out; ++oc) {
      std::fill(acc.begin(), acc.end(), bias ? double(bias[oc]) : 0.0);
      for (int64_t ci = 0; ci < s.c_in; ++ci) {
        const float* xp = x + (b * s.c_in + ci) * s.h * s.w;
        const float* wp = w + (oc * s.c_in + ci) * 9;
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            const double wv = wp[ky * 3 + kx];
            for (int64_t oy = 0; oy < s.out_h; ++oy) {
              const int64_t iy = oy - s.pad_top + ky;
              if (iy < 0 || iy >= s.h) continue;
              const int64_t ox0 = std::max<int64_t>(0, s.pad_left - kx);
              const int64_t ox1 = std::min<int64_t>(s.out_w, s.w + s.pad_left - kx);
              const float* row = xp + iy * s.w - s.pad_left + kx;
              double* ap = acc.data() + oy * s.out_w;
              for (int64_t ox = ox0; ox < ox1; ++ox) ap[ox] += wv * double(row[ox]);
            }
          }
      }
      for (int64_t o = 0; o < s.out_h * s.out_w; ++o) {
        const size_t idx = size_t((b * s.c_out + oc) * s.out_h * s.out_w + o);
        double v = acc[size_t(o)];
        if (res) v += res[idx];
        if (relu && v < 0) v = 0;
        y[idx] = v;
      }
    }
}

Conv2dShape make_shape(int64_t n, int64_t cin, int64_t cout, int64_t h, int64_t w, int64_t pt,
                       int64_t pl, int64_t pb, int64_t pr) {
  Conv2dShape s{};
  s.n = n; s.c_in = cin; s.h = h; s.w = w; s.c_out = cout; s.kh = s.kw = 3; s.groups = 1;
  s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1;
  s.pad_top = pt; s.pad_left = pl; s.pad_bottom = pb; s.pad_right = pr;
  s.out_h = h + pt + pb - 2; s.out_w = w + pl + pr - 2;
  return s;
}

struct Data {
  std::vector<float> x, w, b, r;
};

Data make_data(const Conv2dShape& s, std::mt19937& rng) {
  Data d;
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const float ws = std::sqrt(2.0f / float(9 * s.c_in));  // He init: activations stay O(1)
  d.x.resize(size_t(s.n * s.c_in * s.h * s.w));
  d.w.resize(size_t(s.c_out * s.c_in * 9));
  d.b.resize(size_t(s.c_out));
  d.r.resize(size_t(s.n * s.c_out * s.out_h * s.out_w));
  for (auto& v : d.x) v = nd(rng);
  for (auto& v : d.w) v = nd(rng) * ws;
  for (auto& v : d.b) v = 0.1f * nd(rng);
  for (auto& v : d.r) v = nd(rng);
  return d;
}

struct Err {
  double max_abs = 0, max_ref = 0;
};
Err compare(const std::vector<float>& y, const std::vector<double>& ref) {
  Err e;
  for (size_t i = 0; i < y.size(); ++i) {
    e.max_abs = std::max(e.max_abs, std::fabs(double(y[i]) - ref[i]));
    e.max_ref = std::max(e.max_ref, std::fabs(ref[i]));
  }
  return e;
}

int run_check(int count) {
  std::mt19937 rng(1234);
  auto U = [&](int lo, int hi) { return int(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  std::vector<Isa> isas = {Isa::scalar};
  if (detected_isa() == Isa::avx512) isas.push_back(Isa::avx512);
  int fails = 0;
  double worst = 0;
  for (int it = 0; it < count; ++it) {
    const bool wide = U(0, 4) == 0;  // > 16 tiles per row: several input vectors
    const int64_t h = U(1, 23), w = wide ? U(60, 90) : U(1, 23);
    int64_t pt = U(0, 2), pl = U(0, 2), pb = U(0, 2), pr = U(0, 2);
    if (U(0, 2) == 0) pt = pl = pb = pr = 1;
    if (h + pt + pb < 3 || w + pl + pr < 3) { --it; continue; }
    const int64_t cin = (wide || U(0, 3) == 0) ? U(1, 5) : U(1, 70), cout = U(0, 3) == 0 ? U(1, 5) : U(1, 80);
    const Conv2dShape s = make_shape(U(1, 3), cin, cout, h, w, pt, pl, pb, pr);
    Data d = make_data(s, rng);
    const bool has_bias = U(0, 1), has_res = U(0, 1), relu = U(0, 1);
    std::vector<double> ref;
    ref_conv(s, d.x.data(), d.w.data(), has_bias ? d.b.data() : nullptr,
             has_res ? d.r.data() : nullptr, relu, ref);
    for (int64_t tile : {4, 2}) {
    auto pw = pack_winograd3x3(d.w.data(), has_bias ? d.b.data() : nullptr, s.c_out, s.c_in, tile);
    for (Isa isa : isas)
      for (int strat = 1; strat <= 2; ++strat)
        for (int threads : {1, 2, 3}) {
          set_active_isa(isa);
          winograd_force_strategy_for_tests(strat);
          std::vector<float> y(ref.size(), std::nanf(""));
          winograd3x3(s, *pw, d.x.data(), has_res ? d.r.data() : nullptr, relu, y.data(), threads);
          // Winograd tolerance: |a - e| <= 1e-4 * (max|e| + 1) (error grows with c_in).
          const Err e = compare(y, ref);
          const double tol = 1e-4 * (e.max_ref + 1.0);
          bool bad = !(e.max_abs <= tol);
          for (float v : y) bad |= std::isnan(v);
          worst = std::max(worst, e.max_abs / (e.max_ref + 1.0));
          if (bad) {
            if (++fails < 20)
              std::printf("FAIL tile=%ld isa=%s strat=%d t=%d n=%ld cin=%ld cout=%ld %ldx%ld pads=%ld,%ld,%ld,%ld bias=%d res=%d relu=%d err=%g ref=%g\n",
                          long(tile), isa_name(isa), strat, threads, long(s.n), long(s.c_in), long(s.c_out), long(s.h), long(s.w),
                          long(pt), long(pl), long(pb), long(pr), has_bias, has_res, relu, e.max_abs, e.max_ref);
          }
        }
    }
  }
  winograd_force_strategy_for_tests(0);
  set_active_isa(detected_isa());
  std::printf("check: %d random convs x 2 tiles x %zu ISA x 2 strategies x 3 thread counts, %d failures, worst err/(max|ref|+1) = %.3g\n",
              count, isas.size(), fails, worst);
  return fails ? 1 : 0;
}

struct Layer {
  const char* name;
  int64_t c, hw;
};
const Layer kLayers[] = {{"64@56", 64, 56}, {"128@28", 128, 28}, {"256@14", 256, 14}, {"512@7", 512, 7}};

void run_error() {
  std::mt19937 rng(7);
  std::printf("| shape | F(4x4) max abs err | F(4x4) max rel-to-max | F(2x2) max abs | F(2x2) rel-to-max | GEMM path rel-to-max | max abs ref |\n|---|---|---|---|---|---|---|\n");
  for (const Layer& L : kLayers) {
    const Conv2dShape s = make_shape(1, L.c, L.c, L.hw, L.hw, 1, 1, 1, 1);
    Data d = make_data(s, rng);
    std::vector<double> ref;
    ref_conv(s, d.x.data(), d.w.data(), d.b.data(), nullptr, false, ref);
    auto pw = pack_winograd3x3(d.w.data(), d.b.data(), s.c_out, s.c_in, 4);
    std::vector<float> y(ref.size());
    winograd3x3(s, *pw, d.x.data(), nullptr, false, y.data(), 2);
    const Err e = compare(y, ref);
    auto pw2 = pack_winograd3x3(d.w.data(), d.b.data(), s.c_out, s.c_in, 2);
    std::vector<float> y2(ref.size());
    winograd3x3(s, *pw2, d.x.data(), nullptr, false, y2.data(), 2);
    const Err e2 = compare(y2, ref);
    // The exact path, for scale.
    auto pc = pack_conv2d(d.w.data(), d.b.data(), s.c_out, s.c_in, 3, 3, 1);
    std::vector<float> yc(ref.size());
    conv2d(s, *pc, d.x.data(), nullptr, false, yc.data(), 2);
    const Err ec = compare(yc, ref);
    std::printf("| %s | %.3g | %.3g | %.3g | %.3g | %.3g | %.3g |\n", L.name, e.max_abs,
                e.max_abs / e.max_ref, e2.max_abs, e2.max_abs / e2.max_ref, ec.max_abs / ec.max_ref, e.max_ref);
  }
}

// This machine is shared (load often > 2 cores): report the minimum over many
// interleaved runs, of wall time and (1 thread) of the thread's CPU time, which
// leaves out time-slicing by other processes.
double now_ms(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}
struct Timing {
  double wall = 1e30, cpu = 1e30, proc = 1e30;  // proc: process CPU time (all threads)
};
template <typename F, typename G>
void time_pair(F&& f, G&& g, Timing* tf, Timing* tg, double budget_s) {
  f();
  g();
  const double start = now_ms(CLOCK_MONOTONIC);
  for (int r = 0; r < 400; ++r) {
    for (int which = 0; which < 2; ++which) {
      Timing* t = which ? tg : tf;
      const double p0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
      const double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
      if (which) g(); else f();
      const double c1 = now_ms(CLOCK_THREAD_CPUTIME_ID), w1 = now_ms(CLOCK_MONOTONIC);
      t->proc = std::min(t->proc, now_ms(CLOCK_PROCESS_CPUTIME_ID) - p0);
      t->wall = std::min(t->wall, w1 - w0);
      t->cpu = std::min(t->cpu, c1 - c0);
    }
    if (r >= 10 && now_ms(CLOCK_MONOTONIC) - start > budget_s * 1e3) break;
  }
}

void run_bench(const char* only, double budget) {
  std::mt19937 rng(3);
  std::printf("| shape | batch | threads | conv2d ms | wino ms | conv2d GF/s | wino eff GF/s | speedup |\n|---|---|---|---|---|---|---|---|\n");
  for (const Layer& L : kLayers) {
    if (only && !std::strstr(L.name, only)) continue;
    std::vector<int64_t> batches = {1, 8};
    if (const char* b = std::getenv("WINO_BATCHES")) {  // e.g. WINO_BATCHES=2,4
      batches.clear();
      for (const char* p = b; *p; ++p)
        if (p == b || p[-1] == ',') batches.push_back(std::atoi(p));
    }
    for (int64_t n : batches) {
      const Conv2dShape s = make_shape(n, L.c, L.c, L.hw, L.hw, 1, 1, 1, 1);
      Data d = make_data(s, rng);
      static const int64_t tile = std::getenv("WINO_TILE") ? std::atoi(std::getenv("WINO_TILE")) : 4;
      auto pw = pack_winograd3x3(d.w.data(), d.b.data(), s.c_out, s.c_in, tile);
      auto pc = pack_conv2d(d.w.data(), d.b.data(), s.c_out, s.c_in, 3, 3, 1);
      std::vector<float> y(d.r.size());
      const double flops = 2.0 * double(s.n * s.c_out * s.out_h * s.out_w) * double(s.c_in * 9);
      for (int t : {1, 2}) {
        Timing tg, tw;
        time_pair([&] { conv2d(s, *pc, d.x.data(), d.r.data(), true, y.data(), t); },
                  [&] { winograd3x3(s, *pw, d.x.data(), d.r.data(), true, y.data(), t); }, &tg, &tw,
                  budget);
        // 1 thread: the thread's CPU time; 2 threads: wall time, or (env WINO_PROC=1)
        // process CPU time / threads (workers spin while waiting, so imbalance still counts).
        static const bool proc = std::getenv("WINO_PROC") != nullptr;
        const double a = t == 1 ? tg.cpu : proc ? tg.proc / t : tg.wall;
        const double b = t == 1 ? tw.cpu : proc ? tw.proc / t : tw.wall;
        std::printf("| %s | %ld | %d | %.3f | %.3f | %.0f | %.0f | %.2fx |\n", L.name, long(n), t, a, b,
                    flops / a * 1e-6, flops / b * 1e-6, a / b);
        std::fflush(stdout);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "all";
  int rc = 0;
  std::printf("isa: %s\n", isa_name(detected_isa()));
  if (mode == "all" || mode == "check") rc |= run_check(argc > 2 && mode == "check" ? std::atoi(argv[2]) : 300);
  if (mode == "all" || mode == "error") run_error();
  if (const char* st = std::getenv("WINO_STRATEGY")) winograd_force_strategy_for_tests(std::atoi(st));  // 1 shared, 2 blocked
  if (mode == "all" || mode == "bench") run_bench(mode == "bench" && argc > 2 ? argv[2] : nullptr, argc > 3 ? std::atof(argv[3]) : 1.5);
  return rc;
}
