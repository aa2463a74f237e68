// Standalone correctness + speed harness for the CPU kernels (not built by npm).
//
// Build (from the repository root):
//   sh native/cpu/tests/build.sh /tmp/conv_test
// (compiles native/cpu/*.cc plainly, *__avx2.cc with -mavx2 -mfma, *__avx512f.cc with
// -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma, then links this file).
// Run:
//   /tmp/conv_test            # correctness (random shapes, every ISA) + ResNet-50 bench
//   /tmp/conv_test check 500  # only correctness, 500 random convs per ISA
//   /tmp/conv_test bench [threads=2] [isa] [shape substring]   # only the benchmark
// Benchmark environment: RESNODE_BENCH_SECONDS (per shape), RESNODE_BENCH_BATCH,
// RESNODE_BENCH_COLD=n (rotate n copies of weights and activations, so they
// come from L3 or memory as in a model), RESNODE_BENCH_AB=1 (alternate with
// the GEMM-panel packing of the same weights, in one process).
// Tolerance: |a - e| <= 1e-5 + 1e-4 * |e| against a double-precision loop.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../conv_dconv.h"
#include "../ops.h"
#include "../threadpool.h"

using namespace resnode::cpu;

namespace {

constexpr double kAtol = 1e-5, kRtol = 1e-4;

struct Cfg {
  Conv2dShape s;
  bool bias, residual, relu;
  bool in_place;  // residual passed as y itself (y += conv(x))
  int threads;
};

// Floor mode, as ONNX and the ops API: 0 when the kernel does not fit the padded input.
int64_t out_dim(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
  const int64_t span = in + p0 + p1 - d * (k - 1) - 1;
  return span < 0 ? 0 : span / s + 1;
}

void ref_conv(const Conv2dShape& s, const std::vector<float>& x, const std::vector<float>& w,
              const float* bias, const float* res, bool relu, std::vector<double>& y) {
  const int64_t cin_g = s.c_in / s.groups, m_g = s.c_out / s.groups;
  y.assign(size_t(s.n * s.c_out * s.out_h * s.out_w), 0.0);
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t oc = 0; oc < s.c_out; ++oc) {
      const int64_t g = oc / m_g;
      for (int64_t oy = 0; oy < s.out_h; ++oy)
        for (int64_t ox = 0; ox < s.out_w; ++ox) {
          double acc = bias ? bias[oc] : 0.0;
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t ky = 0; ky < s.kh; ++ky) {
              const int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dil_h;
              if (iy < 0 || iy >= s.h) continue;
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dil_w;
                if (ix < 0 || ix >= s.w) continue;
                acc += double(x[((b * s.c_in + g * cin_g + ci) * s.h + iy) * s.w + ix]) *
                       double(w[((oc * cin_g + ci) * s.kh + ky) * s.kw + kx]);
              }
            }
          const size_t o = size_t(((b * s.c_out + oc) * s.out_h + oy) * s.out_w + ox);
          if (res) acc += res[o];
          if (relu && acc < 0) acc = 0;
          y[o] = acc;
        }
    }
}

Cfg random_cfg(std::mt19937& rng) {
  auto U = [&](int lo, int hi) { return int(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  for (;;) {
    Cfg c{};
    Conv2dShape& s = c.s;
    const int ks[] = {1, 3, 5, 7};
    s.kh = ks[U(0, 3)];
    s.kw = U(0, 3) == 0 ? ks[U(0, 3)] : s.kh;
    s.n = U(1, 3);
    const int gk = U(0, 5);
    int64_t cin_g = U(1, 24), m_g = U(1, 48);
    if (gk == 0) {  // depthwise
      s.groups = U(2, 24);
      cin_g = 1;
      m_g = U(1, 2);
    } else if (gk == 1) {
      s.groups = U(2, 4);
    } else {
      s.groups = 1;
      if (U(0, 3) == 0) m_g = U(40, 100);
    }
    s.c_in = cin_g * s.groups;
    s.c_out = m_g * s.groups;
    s.stride_h = U(1, 3);
    s.stride_w = U(0, 1) ? s.stride_h : U(1, 3);
    s.dil_h = U(1, 2);
    s.dil_w = U(1, 2);
    s.pad_top = U(0, int(s.kh - 1));
    s.pad_bottom = U(0, int(s.kh - 1));
    s.pad_left = U(0, int(s.kw - 1));
    s.pad_right = U(0, int(s.kw - 1));
    s.h = U(1, 40);
    s.w = U(1, 40);
    s.out_h = out_dim(s.h, s.kh, s.stride_h, s.dil_h, s.pad_top, s.pad_bottom);
    s.out_w = out_dim(s.w, s.kw, s.stride_w, s.dil_w, s.pad_left, s.pad_right);
    if (s.out_h < 1 || s.out_w < 1) continue;
    if (s.n * s.c_out * s.out_h * s.out_w * s.c_in / s.groups * s.kh * s.kw > 30'000'000)
      continue;
    c.bias = U(0, 1);
    c.residual = U(0, 1);
    c.relu = U(0, 1);
    c.in_place = c.residual && U(0, 2) == 0;
    c.threads = U(1, 3);
    return c;
  }
}

bool check_conv(const Cfg& c, std::mt19937& rng, std::string* why) {
  const Conv2dShape& s = c.s;
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> x(size_t(s.n * s.c_in * s.h * s.w)), w(size_t(s.c_out * s.c_in / s.groups * s.kh * s.kw)),
      bias(size_t(s.c_out)), res(size_t(s.n * s.c_out * s.out_h * s.out_w)), y(res.size(), NAN);
  // He-style weight scale 1/sqrt(K): with U(-1, 1) weights and K ~ 1000, an
  // output that happens to be near 0 carries ~1e-5 of float32 accumulation
  // error (any float32 GEMM), which the 1e-5 atol alone cannot absorb.
  const float wscale = 1.0f / std::sqrt(float(s.c_in / s.groups * s.kh * s.kw));
  for (auto& v : x) v = d(rng);
  for (auto& v : w) v = d(rng) * wscale;
  for (auto& v : bias) v = d(rng);
  for (auto& v : res) v = d(rng);
  auto packed = pack_conv2d(w.data(), c.bias ? bias.data() : nullptr, s.c_out, s.c_in / s.groups,
                            s.kh, s.kw, s.groups);
  if (c.in_place) {
    y = res;
    conv2d(s, *packed, x.data(), y.data(), c.relu, y.data(), c.threads);
  } else {
    conv2d(s, *packed, x.data(), c.residual ? res.data() : nullptr, c.relu, y.data(), c.threads);
  }
  std::vector<double> e;
  ref_conv(s, x, w, c.bias ? bias.data() : nullptr, c.residual ? res.data() : nullptr, c.relu, e);
  for (size_t i = 0; i < e.size(); ++i) {
    const double err = std::fabs(double(y[i]) - e[i]);
    if (!(err <= kAtol + kRtol * std::fabs(e[i]))) {
      char buf[512];
      std::snprintf(buf, sizeof buf,
                    "n=%ld cin=%ld h=%ld w=%ld cout=%ld k=%ldx%ld g=%ld s=%ld,%ld d=%ld,%ld "
                    "p=%ld,%ld,%ld,%ld out=%ldx%ld bias=%d res=%d%s relu=%d thr=%d: y[%zu]=%g "
                    "expected %g",
                    long(s.n), long(s.c_in), long(s.h), long(s.w), long(s.c_out), long(s.kh),
                    long(s.kw), long(s.groups), long(s.stride_h), long(s.stride_w),
                    long(s.dil_h), long(s.dil_w), long(s.pad_top), long(s.pad_left),
                    long(s.pad_bottom), long(s.pad_right), long(s.out_h), long(s.out_w),
                    c.bias, c.residual, c.in_place ? " (in place)" : "", c.relu, c.threads, i, double(y[i]), e[i]);
      *why = buf;
      return false;
    }
  }
  return true;
}

bool check_gemm(std::mt19937& rng, std::string* why) {
  auto U = [&](int lo, int hi) { return int(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  const int m = U(1, 40), n = U(1, 300), k = U(1, 600);
  const bool relu = U(0, 1), has_bias = U(0, 1);
  std::vector<float> x(size_t(m) * k), w(size_t(n) * k), b(n), y(size_t(m) * n);
  for (auto& v : x) v = d(rng);
  // He-style scale: with U(-1, 1) weights and k ~ 500, outputs near 0 carry
  // ~1e-5 of float32 accumulation error, which the atol alone cannot absorb.
  for (auto& v : w) v = d(rng) / std::sqrt(float(k));
  for (auto& v : b) v = d(rng);
  auto p = pack_gemm(w.data(), has_bias ? b.data() : nullptr, n, k);
  gemm(*p, x.data(), m, relu, y.data(), U(1, 3));
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double e = has_bias ? b[j] : 0.0;
      for (int q = 0; q < k; ++q) e += double(x[size_t(i) * k + q]) * w[size_t(j) * k + q];
      if (relu && e < 0) e = 0;
      const double a = y[size_t(i) * n + j];
      if (!(std::fabs(a - e) <= kAtol + kRtol * std::fabs(e))) {
        char buf[256];
        std::snprintf(buf, sizeof buf, "gemm m=%d n=%d k=%d relu=%d: y[%d,%d]=%g expected %g", m,
                      n, k, relu, i, j, a, e);
        *why = buf;
        return false;
      }
    }
  return true;
}

int run_checks(int count) {
  int failures = 0;
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    if (isa > detected_isa()) continue;
    set_active_isa(isa);
    std::mt19937 rng(1234 + int(isa));
    int ok = 0, bad = 0;
    std::string why;
    for (int i = 0; i < count; ++i) {
      Cfg c = random_cfg(rng);
      if (check_conv(c, rng, &why)) ++ok;
      else if (++bad <= 5) std::printf("  FAIL [%s] %s\n", isa_name(isa), why.c_str());
    }
    int gok = 0, gbad = 0;
    for (int i = 0; i < count / 5; ++i) {
      if (check_gemm(rng, &why)) ++gok;
      else if (++gbad <= 5) std::printf("  FAIL [%s] %s\n", isa_name(isa), why.c_str());
    }
    std::printf("check %-8s conv %d/%d ok, gemm %d/%d ok\n", isa_name(isa), ok, ok + bad, gok,
                gok + gbad);
    failures += bad + gbad;
  }
  set_active_isa(detected_isa());
  return failures;
}

// Several threads (like libuv's pool) run convs at once: the thread pool is
// taken by one caller at a time and the others run their share serially; all
// results must still be exact copies of a single-caller run.
int run_concurrency() {
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  Conv2dShape s{};
  s.n = 1; s.c_in = 64; s.h = s.w = 28; s.c_out = 96; s.kh = s.kw = 3; s.groups = 1;
  s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1;
  s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 1;
  s.out_h = s.out_w = 28;
  std::vector<float> x(size_t(64 * 28 * 28)), w(size_t(96 * 64 * 9)), res(size_t(96 * 28 * 28));
  for (auto& v : x) v = d(rng);
  for (auto& v : w) v = d(rng);
  for (auto& v : res) v = d(rng);
  auto p = pack_conv2d(w.data(), nullptr, 96, 64, 3, 3, 1);
  std::vector<float> want(res.size());
  conv2d(s, *p, x.data(), res.data(), true, want.data(), 1);
  int bad = 0;
  std::vector<std::thread> th;
  std::vector<int> errors(6, 0);
  for (int t = 0; t < 6; ++t)
    th.emplace_back([&, t] {
      std::vector<float> y(res.size());
      for (int it = 0; it < 200; ++it) {
        std::fill(y.begin(), y.end(), NAN);
        conv2d(s, *p, x.data(), res.data(), true, y.data(), 1 + (it + t) % 3);
        if (std::memcmp(y.data(), want.data(), y.size() * 4) != 0) ++errors[size_t(t)];
      }
    });
  for (auto& t : th) t.join();
  for (int e : errors) bad += e;
  // A parallel_for inside a task (the pool is taken): runs serially, no deadlock.
  std::vector<int> hits(64, 0);
  parallel_for(8, 2, [&](size_t i) {
    parallel_for(8, 2, [&](size_t j) { hits[i * 8 + j] += 1; });
  });
  for (int h : hits) bad += h != 1;
  std::printf("concurrency: 6 threads x 200 convs (1-3 threads each): %s\n",
              bad ? "MISMATCH" : "all identical");
  return bad;
}

// ---- benchmark -------------------------------------------------------------

__attribute__((target("avx512f,fma"))) double fma_loop_512(long iters) {
  // 12 independent dependency chains: enough to cover FMA latency x 2 ports.
  __m512 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512 b = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(1e-4f);
  for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) a[j] = _mm512_fmadd_ps(a[j], b, c);
  }
  float s = 0;
  for (int i = 0; i < 12; ++i) s += _mm512_reduce_add_ps(a[i]);
  return s;
}

// Measured FMA peak in GFLOP/s with `threads` threads (AVX-512 zmm FMAs).
double thread_seconds();

double measure_peak(int threads) {
  const long iters = 20'000'000;
  double best = 0;
  if (threads == 1) {  // this thread's CPU time, like the 1-thread conv timings
    for (int rep = 0; rep < 3; ++rep) {
      const double c0 = thread_seconds();
      volatile double sink = fma_loop_512(iters);
      (void)sink;
      best = std::max(best, iters * 12.0 * 32.0 / (thread_seconds() - c0) / 1e9);
    }
    return best;
  }
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> th;
    std::vector<double> sink(static_cast<size_t>(threads));
    for (int t = 0; t < threads; ++t) th.emplace_back([&, t] { sink[size_t(t)] = fma_loop_512(iters); });
    for (auto& t : th) t.join();
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, threads * iters * 12.0 * 32.0 / sec / 1e9);
  }
  return best;
}

double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct BenchShape {
  const char* name;
  int64_t cin, hw, cout, k, stride, count;  // count: occurrences in ResNet-50
};

const BenchShape kResNet50[] = {
    {"conv1 7x7/2 3->64 @224", 3, 224, 64, 7, 2, 1},
    {"L1 1x1 64->64 @56", 64, 56, 64, 1, 1, 1},
    {"L1 3x3 64->64 @56", 64, 56, 64, 3, 1, 3},
    {"L1 1x1 64->256 @56", 64, 56, 256, 1, 1, 4},
    {"L1 1x1 256->64 @56", 256, 56, 64, 1, 1, 2},
    {"L2 1x1 256->128 @56", 256, 56, 128, 1, 1, 1},
    {"L2 3x3/2 128->128 @56", 128, 56, 128, 3, 2, 1},
    {"L2 1x1/2 256->512 @56", 256, 56, 512, 1, 2, 1},
    {"L2 1x1 128->512 @28", 128, 28, 512, 1, 1, 4},
    {"L2 1x1 512->128 @28", 512, 28, 128, 1, 1, 3},
    {"L2 3x3 128->128 @28", 128, 28, 128, 3, 1, 3},
    {"L3 1x1 512->256 @28", 512, 28, 256, 1, 1, 1},
    {"L3 3x3/2 256->256 @28", 256, 28, 256, 3, 2, 1},
    {"L3 1x1/2 512->1024 @28", 512, 28, 1024, 1, 2, 1},
    {"L3 1x1 256->1024 @14", 256, 14, 1024, 1, 1, 6},
    {"L3 1x1 1024->256 @14", 1024, 14, 256, 1, 1, 5},
    {"L3 3x3 256->256 @14", 256, 14, 256, 3, 1, 5},
    {"L4 1x1 1024->512 @14", 1024, 14, 512, 1, 1, 1},
    {"L4 3x3/2 512->512 @14", 512, 14, 512, 3, 2, 1},
    {"L4 1x1/2 1024->2048 @14", 1024, 14, 2048, 1, 2, 1},
    {"L4 1x1 512->2048 @7", 512, 7, 2048, 1, 1, 3},
    {"L4 1x1 2048->512 @7", 2048, 7, 512, 1, 1, 2},
    {"L4 3x3 512->512 @7", 512, 7, 512, 3, 1, 2},
};

void run_bench(int threads, const char* only_isa, const char* only_shape) {
  const double peak1 = measure_peak(1), peakT = measure_peak(threads);
  std::printf("measured FMA peak: %.1f GFLOP/s (1 thread), %.1f GFLOP/s (%d threads)\n", peak1,
              peakT, threads);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  const char* bs = std::getenv("RESNODE_BENCH_SECONDS");
  const double bench_seconds = bs ? std::atof(bs) : 0.25;
  const char* bb = std::getenv("RESNODE_BENCH_BATCH");
  const int64_t batch = bb ? std::max(1, std::atoi(bb)) : 1;
  const bool ab = std::getenv("RESNODE_BENCH_AB") != nullptr;
  const char* bc = std::getenv("RESNODE_BENCH_COLD");
  const int cold = bc ? std::max(1, std::atoi(bc)) : 1;
  for (Isa isa : {Isa::avx512, Isa::avx2, Isa::scalar}) {
    if (isa > detected_isa()) continue;
    if (only_isa && std::strcmp(only_isa, isa_name(isa)) != 0) continue;
    set_active_isa(isa);
    std::printf("\n[%s] batch %ld, %d threads, bias+relu (+residual on 1x1 expand)\n", isa_name(isa),
                long(batch), threads);
    std::printf("%-26s %9s %9s %7s\n", "shape", "ms", "GFLOP/s", "%peak");
    double total_ms = 0, total_flop = 0;
    for (const BenchShape& b : kResNet50) {
      if (only_shape && !std::strstr(b.name, only_shape)) continue;
      Conv2dShape s{};
      s.n = batch;
      s.c_in = b.cin;
      s.h = s.w = b.hw;
      s.c_out = b.cout;
      s.kh = s.kw = b.k;
      s.groups = 1;
      s.stride_h = s.stride_w = b.stride;
      s.dil_h = s.dil_w = 1;
      s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = b.k / 2;
      s.out_h = out_dim(s.h, s.kh, s.stride_h, 1, s.pad_top, s.pad_bottom);
      s.out_w = s.out_h;
      std::vector<float> x(size_t(s.n * s.c_in * s.h * s.w)), w(size_t(s.c_out * s.c_in * s.kh * s.kw)),
          bias(size_t(s.c_out)), y(size_t(s.n * s.c_out * s.out_h * s.out_w)), res(y.size());
      for (auto& v : x) v = d(rng);
      for (auto& v : w) v = d(rng) * 0.05f;
      for (auto& v : bias) v = d(rng);
      for (auto& v : res) v = d(rng);
      // RESNODE_BENCH_COLD=n: rotate through n packings of the weights, so that
      // (as in a model) they come from L3 or memory rather than L2...
      std::vector<std::shared_ptr<PackedConv>> packs(static_cast<size_t>(cold));
      for (auto& q : packs) q = pack_conv2d(w.data(), bias.data(), s.c_out, s.c_in, s.kh, s.kw, 1);
      // RESNODE_BENCH_AB=1: alternate runs with the GEMM-panel packing (no direct kernel).
      dconv_enable_for_tests(false);
      std::vector<std::shared_ptr<PackedConv>> packs_off(ab ? size_t(cold) : 0);
      for (auto& q : packs_off) q = pack_conv2d(w.data(), bias.data(), s.c_out, s.c_in, s.kh, s.kw, 1);
      dconv_enable_for_tests(true);
      const bool use_res = b.k == 1 && b.cout > b.cin;
      // ...and through n copies of the activations (input, residual, output).
      std::vector<std::vector<float>> xs(size_t(cold), x), rs(size_t(cold), res), ys(size_t(cold), y);
      const double flop = 2.0 * double(s.n * s.c_out * s.out_h * s.out_w) * double(s.c_in * s.kh * s.kw);
      // Repeat for ~0.25 s (RESNODE_BENCH_SECONDS; at least 5 runs), take the best time.
      double best = 1e30, best_off = 1e30;
      auto start = std::chrono::steady_clock::now();
      for (int r = 0;; ++r) {
        if (ab) {
          const double c0 = threads == 1 ? thread_seconds() : 0.0;
          auto t0 = std::chrono::steady_clock::now();
          const size_t c = size_t((2 * r) % cold);  // its own copies: neither run warms the other's
          conv2d(s, *packs_off[c], xs[c].data(), use_res ? rs[c].data() : nullptr, true, ys[c].data(), threads);
          auto t1 = std::chrono::steady_clock::now();
          best_off = std::min(best_off, threads == 1 ? thread_seconds() - c0
                                                     : std::chrono::duration<double>(t1 - t0).count());
        }
        // One thread: this thread's CPU time (robust to other processes on a
        // shared machine); several threads: wall time.
        const double c0 = threads == 1 ? thread_seconds() : 0.0;
        auto t0 = std::chrono::steady_clock::now();
        const size_t c = size_t((ab ? 2 * r + 1 : r) % cold);
        conv2d(s, *packs[c], xs[c].data(), use_res ? rs[c].data() : nullptr, true, ys[c].data(), threads);
        auto t1 = std::chrono::steady_clock::now();
        const double dt = threads == 1 ? thread_seconds() - c0
                                       : std::chrono::duration<double>(t1 - t0).count();
        best = std::min(best, dt);
        if (r >= 5 && std::chrono::duration<double>(t1 - start).count() > bench_seconds) break;
      }
      const double gf = flop / best / 1e9;
      total_ms += best * 1e3 * double(b.count);
      total_flop += flop * double(b.count);
      std::printf("%-26s %9.3f %9.1f %6.1f%%", b.name, best * 1e3, gf, 100.0 * gf / peakT);
      if (ab) std::printf("   gemm-panels %.3f ms (%.2fx)", best_off * 1e3, best_off / best);
      std::printf("\n");
    }
    std::printf("%-26s %9.3f %9.1f %6.1f%%   (all ResNet-50 convs, weighted by count)\n",
                "TOTAL", total_ms, total_flop / (total_ms * 1e-3) / 1e9,
                100.0 * total_flop / (total_ms * 1e-3) / 1e9 / peakT);
  }
  set_active_isa(detected_isa());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "all";
  int failures = 0;
  std::printf("detected ISA: %s, default threads: %d\n", isa_name(detected_isa()), default_threads());
  if (mode == "all" || mode == "check") {
    failures = run_checks(argc > 2 ? std::atoi(argv[2]) : 300);
    failures += run_concurrency();
  }
  if (mode == "all" || mode == "bench")
    run_bench(argc > 2 && mode == "bench" ? std::atoi(argv[2]) : 2, argc > 3 ? argv[3] : nullptr,
              argc > 4 ? argv[4] : nullptr);
  if (failures) std::printf("%d FAILURES\n", failures);
  return failures ? 1 : 0;
}
