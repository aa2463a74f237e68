// Standalone GPU test and benchmark of the CUDA kernels (ctest target cuda_gpu).
// Needs no Node. Compares every CUDA op with the CPU kernels (native/cpu, when
// linked: RESNODE_TEST_WITH_CPU) or with a naive float64 reference, runs a whole
// ResNet-50 on the device (one upload, one download) against the CPU, checks
// that concurrent contexts agree, and measures throughput.
//
//   resnode_cuda_test [--md FILE] [--quick] [--bench-only]
// Exit: 0 pass, 1 failure, 77 no CUDA device ("SKIP: no CUDA device: <reason>").
//
// Tolerances (|got - ref| <= tol * max|ref|, per tensor):
//   fp32 path 1e-5, tf32 path 1e-3 (issue 5's ResNet-50 criterion), pools/add 1e-6.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <functional>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../context.cuh"
#include "../conv2d.cuh"
#include "../eltwise.cuh"
#include "../gemm.cuh"
#include "../pool.cuh"
#ifdef RESNODE_TEST_WITH_CPU
#include "cpu/ops.h"
#endif

namespace cu = resnode::cuda;
using Clock = std::chrono::steady_clock;

static int failures = 0;
static std::string md;  // the markdown report
static void report(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char* fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fputs(buf, stdout);
  std::fflush(stdout);
  md += buf;
}

static const int kCpuThreads = std::max(1u, std::thread::hardware_concurrency());

// ---- references ---------------------------------------------------------------------
struct ConvLayer {
  cu::Conv2dShape s;
  std::vector<float> w, b;
  std::shared_ptr<cu::ConvWeights> gw;
#ifdef RESNODE_TEST_WITH_CPU
  std::shared_ptr<resnode::cpu::PackedConv> cw;
#endif
};

static cu::Conv2dShape conv_shape(int64_t n, int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t k,
                                  int64_t stride, int64_t pad, int64_t groups = 1, int64_t dil = 1) {
  cu::Conv2dShape s{};
  s.n = n; s.c_in = cin; s.h = h; s.w = w; s.c_out = cout; s.kh = s.kw = k; s.groups = groups;
  s.stride_h = s.stride_w = stride; s.dil_h = s.dil_w = dil;
  s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = pad;
  s.out_h = (h + 2 * pad - dil * (k - 1) - 1) / stride + 1;
  s.out_w = (w + 2 * pad - dil * (k - 1) - 1) / stride + 1;
  return s;
}

[[maybe_unused]] static void naive_conv(const cu::Conv2dShape& s, const float* x, const float* wt, const float* bias,
                       const float* res, bool relu, float* y) {
  const int64_t cig = s.c_in / s.groups, cog = s.c_out / s.groups;
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t co = 0; co < s.c_out; ++co) {
      const int64_t g = co / cog;
      for (int64_t oh = 0; oh < s.out_h; ++oh)
        for (int64_t ow = 0; ow < s.out_w; ++ow) {
          double acc = bias ? bias[co] : 0.0;
          for (int64_t ci = 0; ci < cig; ++ci)
            for (int64_t r = 0; r < s.kh; ++r) {
              const int64_t ih = oh * s.stride_h - s.pad_top + r * s.dil_h;
              if (ih < 0 || ih >= s.h) continue;
              for (int64_t q = 0; q < s.kw; ++q) {
                const int64_t iw = ow * s.stride_w - s.pad_left + q * s.dil_w;
                if (iw < 0 || iw >= s.w) continue;
                acc += double(x[((b * s.c_in + g * cig + ci) * s.h + ih) * s.w + iw]) *
                       wt[((co * cig + ci) * s.kh + r) * s.kw + q];
              }
            }
          const int64_t idx = ((b * s.c_out + co) * s.out_h + oh) * s.out_w + ow;
          if (res) acc += res[idx];
          y[idx] = float(relu ? std::max(acc, 0.0) : acc);
        }
    }
}

static void ref_conv(ConvLayer& L, const float* x, const float* res, bool relu, float* y) {
#ifdef RESNODE_TEST_WITH_CPU
  if (!L.cw) L.cw = resnode::cpu::pack_conv2d(L.w.data(), L.b.empty() ? nullptr : L.b.data(), L.s.c_out,
                                              L.s.c_in / L.s.groups, L.s.kh, L.s.kw, L.s.groups);
  resnode::cpu::Conv2dShape c{};
  const auto& s = L.s;
  c.n = s.n; c.c_in = s.c_in; c.h = s.h; c.w = s.w; c.c_out = s.c_out; c.kh = s.kh; c.kw = s.kw;
  c.groups = s.groups; c.stride_h = s.stride_h; c.stride_w = s.stride_w; c.dil_h = s.dil_h; c.dil_w = s.dil_w;
  c.pad_top = s.pad_top; c.pad_left = s.pad_left; c.pad_bottom = s.pad_bottom; c.pad_right = s.pad_right;
  c.out_h = s.out_h; c.out_w = s.out_w;
  resnode::cpu::conv2d(c, *L.cw, x, res, relu, y, kCpuThreads);
#else
  naive_conv(L.s, x, L.w.data(), L.b.empty() ? nullptr : L.b.data(), res, relu, y);
#endif
}

static const char* ref_name() {
#ifdef RESNODE_TEST_WITH_CPU
  return "CPU kernels (native/cpu)";
#else
  return "naive float64 reference (CPU kernels not linked)";
#endif
}

// ---- helpers ------------------------------------------------------------------------------
static void fill(std::vector<float>& v, std::mt19937& rng, float scale = 1.f) {
  std::uniform_real_distribution<float> U(-scale, scale);
  for (auto& e : v) e = U(rng);
}

static double rel_err(const std::vector<float>& got, const std::vector<float>& ref) {
  double mx = 0, err = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    mx = std::max(mx, double(std::fabs(ref[i])));
    const double d = std::fabs(double(got[i]) - ref[i]);
    err = std::max(err, std::isnan(d) ? INFINITY : d);
  }
  return err / std::max(mx, 1e-30);
}

static void expect_close(const char* what, const std::vector<float>& got, const std::vector<float>& ref, double tol) {
  const double e = rel_err(got, ref);
  const bool ok = e <= tol;
  if (!ok) ++failures;
  report("| %s | %.2e | %.0e | %s |\n", what, e, tol, ok ? "ok" : "**FAIL**");
}

struct Dev {  // a scoped device buffer from the context's arena
  cu::Context& ctx;
  float* p;
  size_t n;
  Dev(cu::Context& c, size_t count) : ctx(c), p(static_cast<float*>(c.arena().allocate(count * 4))), n(count) {}
  Dev(cu::Context& c, const std::vector<float>& h) : Dev(c, h.size()) { cu::upload(ctx, p, h.data(), n); }
  ~Dev() { ctx.arena().release(p); }
  std::vector<float> get() const {
    std::vector<float> h(n);
    cu::download(ctx, h.data(), p, n);
    return h;
  }
};

static size_t out_count(const cu::Conv2dShape& s) { return size_t(s.n * s.c_out * s.out_h * s.out_w); }
static size_t in_count(const cu::Conv2dShape& s) { return size_t(s.n * s.c_in * s.h * s.w); }

static ConvLayer make_layer(const cu::Conv2dShape& s, std::mt19937& rng, cu::Context& ctx, bool bias = true) {
  ConvLayer L;
  L.s = s;
  L.w.resize(size_t(s.c_out * (s.c_in / s.groups) * s.kh * s.kw));
  // He-style scale keeps activations O(1) through deep stacks.
  fill(L.w, rng, float(std::sqrt(6.0 / double((s.c_in / s.groups) * s.kh * s.kw))) * 0.7f);
  if (bias) {
    L.b.resize(size_t(s.c_out));
    fill(L.b, rng, 0.1f);
  }
  L.gw = cu::pack_conv2d(ctx, L.w.data(), bias ? L.b.data() : nullptr, s.c_out, s.c_in / s.groups, s.kh, s.kw, s.groups);
  return L;
}

// ---- op tests -------------------------------------------------------------------------------
static void test_convs(cu::Context& ctx, std::mt19937& rng, bool quick) {
  report("\n### conv2d vs %s\n\n| case | max err / max\\|ref\\| | tol | |\n|---|---|---|---|\n", ref_name());
  struct Case {
    const char* name;
    cu::Conv2dShape s;
    bool res, relu;
  };
  std::vector<Case> cases = {
      {"3x3 s1 p1 + residual + relu", conv_shape(2, 64, 28, 28, 64, 3, 1, 1), true, true},
      {"1x1 direct 256->64", conv_shape(2, 256, 14, 14, 64, 1, 1, 0), false, true},
      {"1x1 direct 64->256 + residual", conv_shape(2, 64, 14, 14, 256, 1, 1, 0), true, true},
      {"1x1 s2 downsample", conv_shape(2, 256, 28, 28, 512, 1, 2, 0), false, false},
      {"stem 7x7 s2 p3", conv_shape(2, 3, 64, 64, 64, 7, 2, 3), false, true},
      {"3x3 s2 p1 odd size", conv_shape(3, 32, 15, 17, 48, 3, 2, 1), false, true},
      {"grouped 3x3 g=4", conv_shape(2, 32, 12, 12, 64, 3, 1, 1, 4), true, false},
      {"depthwise 3x3", conv_shape(2, 16, 10, 10, 16, 3, 1, 1, 16), false, true},
      {"dilated 3x3 d=2", conv_shape(1, 16, 20, 20, 24, 3, 1, 2, 1, 2), false, false},
      {"K=4608 (3x3x512) batch 1", conv_shape(1, 512, 7, 7, 512, 3, 1, 1), true, true},
  };
  if (!quick) cases.push_back({"3x3 64ch batch 8 56x56", conv_shape(8, 64, 56, 56, 64, 3, 1, 1), false, true});
  {  // asymmetric padding
    auto s = conv_shape(2, 8, 9, 9, 16, 3, 1, 0);
    s.pad_top = 2; s.pad_left = 0; s.pad_bottom = 1; s.pad_right = 2;
    s.out_h = (9 + 3 - 3) / 1 + 1; s.out_w = (9 + 2 - 3) / 1 + 1;
    cases.push_back({"asymmetric pads", s, true, true});
  }
  for (auto& c : cases) {
    ConvLayer L = make_layer(c.s, rng, ctx);
    std::vector<float> x(in_count(c.s)), r(out_count(c.s)), ref(out_count(c.s));
    fill(x, rng);
    fill(r, rng);
    ref_conv(L, x.data(), c.res ? r.data() : nullptr, c.relu, ref.data());
    Dev dx(ctx, x), dr(ctx, r), dy(ctx, out_count(c.s));
    for (cu::MathMode mode : {cu::MathMode::fp32, cu::MathMode::tf32}) {
      cu::conv2d(ctx, c.s, *L.gw, dx.p, c.res ? dr.p : nullptr, c.relu, dy.p, mode);
      char name[256];
      std::snprintf(name, sizeof name, "%s [%s]", c.name, cu::conv2d_kernel_name(ctx, c.s, mode));
      expect_close(name, dy.get(), ref, mode == cu::MathMode::fp32 ? 1e-5 : 1e-3);
    }
  }
}

static void test_other_ops(cu::Context& ctx, std::mt19937& rng) {
  report("\n### pools, gemm, add vs %s\n\n| case | max err / max\\|ref\\| | tol | |\n|---|---|---|---|\n", ref_name());
  // max / average pool, 3x3 s2 p1 (the ResNet stem pool) and a ceil-mode-like shape.
  cu::Pool2dShape p{};
  p.n = 2; p.c = 8; p.h = 13; p.w = 12; p.kh = p.kw = 3; p.stride_h = p.stride_w = 2; p.dil_h = p.dil_w = 1;
  p.pad_top = p.pad_left = 1; p.pad_bottom = 2; p.pad_right = 1;
  p.out_h = (13 + 3 - 3) / 2 + 1; p.out_w = (12 + 2 - 3) / 2 + 1;
  std::vector<float> x(size_t(p.n * p.c * p.h * p.w)), ref(size_t(p.n * p.c * p.out_h * p.out_w));
  fill(x, rng);
  Dev dx(ctx, x), dy(ctx, ref.size());
  for (int kind = 0; kind < 3; ++kind) {
    const bool is_max = kind == 0, cip = kind == 2;
    for (int64_t b = 0; b < p.n * p.c; ++b)
      for (int64_t oh = 0; oh < p.out_h; ++oh)
        for (int64_t ow = 0; ow < p.out_w; ++ow) {
          double acc = is_max ? -INFINITY : 0;
          int in = 0, padded = 0;
          for (int r = 0; r < 3; ++r)
            for (int q = 0; q < 3; ++q) {
              const int64_t ih = oh * 2 - 1 + r, iw = ow * 2 - 1 + q;
              padded += ih >= -1 && ih < p.h + 2 && iw >= -1 && iw < p.w + 1;
              if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
              ++in;
              const double v = x[size_t((b * p.h + ih) * p.w + iw)];
              acc = is_max ? std::max(acc, v) : acc + v;
            }
          ref[size_t((b * p.out_h + oh) * p.out_w + ow)] = float(is_max ? acc : acc / (cip ? padded : in));
        }
    if (is_max) cu::max_pool2d(ctx, p, dx.p, dy.p);
    else cu::average_pool2d(ctx, p, cip, dx.p, dy.p);
    expect_close(is_max ? "maxPool 3x3 s2" : cip ? "averagePool count_include_pad" : "averagePool", dy.get(), ref, 1e-6);
  }
  {  // global average pool 2x2048x7x7
    const int64_t n = 2, c = 2048, hw = 49;
    std::vector<float> gx(size_t(n * c * hw)), gref(size_t(n * c));
    fill(gx, rng);
    for (int64_t i = 0; i < n * c; ++i) {
      double s = 0;
      for (int64_t j = 0; j < hw; ++j) s += gx[size_t(i * hw + j)];
      gref[size_t(i)] = float(s / hw);
    }
    Dev dgx(ctx, gx), dgy(ctx, gref.size());
    cu::global_average_pool(ctx, n, c, hw, dgx.p, dgy.p);
    expect_close("globalAveragePool 2x2048x7x7", dgy.get(), gref, 1e-6);
  }
  {  // FC 2048 -> 1000, m = 3
    const int64_t m = 3, k = 2048, n = 1000;
    std::vector<float> w(static_cast<size_t>(n * k)), b(static_cast<size_t>(n)), fx(static_cast<size_t>(m * k)), fref(static_cast<size_t>(m * n));
    fill(w, rng, 0.05f);
    fill(b, rng);
    fill(fx, rng);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = b[size_t(j)];
        for (int64_t q = 0; q < k; ++q) s += double(fx[size_t(i * k + q)]) * w[size_t(j * k + q)];
        fref[size_t(i * n + j)] = float(s);
      }
    auto gw = cu::pack_gemm(ctx, w.data(), b.data(), n, k);
    Dev dfx(ctx, fx), dfy(ctx, fref.size());
    cu::gemm(ctx, *gw, dfx.p, m, false, dfy.p, cu::MathMode::fp32);
    expect_close("gemm 3x2048 -> 1000 [fp32]", dfy.get(), fref, 1e-5);
    cu::gemm(ctx, *gw, dfx.p, m, false, dfy.p, cu::MathMode::tf32);
    expect_close("gemm 3x2048 -> 1000 [tf32]", dfy.get(), fref, 1e-3);
  }
  {  // add + relu
    std::vector<float> a(100003), b(100003), aref(100003);
    fill(a, rng);
    fill(b, rng);
    for (size_t i = 0; i < a.size(); ++i) aref[i] = std::max(a[i] + b[i], 0.f);
    Dev da(ctx, a), db(ctx, b), dy2(ctx, a.size());
    cu::add(ctx, da.p, db.p, int64_t(a.size()), true, dy2.p);
    expect_close("add + relu (100003)", dy2.get(), aref, 0);
  }
}

// ---- ResNet-50 on the device ------------------------------------------------------------------
struct Block {
  ConvLayer c1, c2, c3, down;
  bool has_down = false;
};
struct ResNet50 {
  int64_t batch, hw;
  ConvLayer stem;
  cu::Pool2dShape pool;
  std::vector<Block> blocks;
  std::vector<float> fc_w, fc_b;
  std::shared_ptr<cu::ConvWeights> fc;
  double gflop_per_image = 0;
};

static cu::Conv2dShape with_batch(cu::Conv2dShape s, int64_t n) {
  s.n = n;
  return s;
}

static ResNet50 build_resnet50(cu::Context& ctx, int64_t hw, std::mt19937& rng) {
  ResNet50 net;
  net.batch = 1;
  net.hw = hw;
  auto flops = [&](const cu::Conv2dShape& s) {
    net.gflop_per_image += 2.0 * s.c_out * s.out_h * s.out_w * (s.c_in / s.groups) * s.kh * s.kw / 1e9;
  };
  net.stem = make_layer(conv_shape(1, 3, hw, hw, 64, 7, 2, 3), rng, ctx);
  flops(net.stem.s);
  int64_t h = net.stem.s.out_h;
  net.pool = cu::Pool2dShape{1, 64, h, h, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, (h + 2 - 3) / 2 + 1, (h + 2 - 3) / 2 + 1};
  h = net.pool.out_h;
  int64_t cin = 64;
  const int depth[4] = {3, 4, 6, 3};
  for (int l = 0; l < 4; ++l) {
    const int64_t width = 64 << l, cout = width * 4;
    for (int i = 0; i < depth[l]; ++i) {
      const int64_t stride = (l > 0 && i == 0) ? 2 : 1;
      Block b;
      b.c1 = make_layer(conv_shape(1, cin, h, h, width, 1, 1, 0), rng, ctx);
      b.c2 = make_layer(conv_shape(1, width, h, h, width, 3, stride, 1), rng, ctx);
      const int64_t ho = b.c2.s.out_h;
      b.c3 = make_layer(conv_shape(1, width, ho, ho, cout, 1, 1, 0), rng, ctx);
      // Keep the residual stream bounded: scale the last conv of each block down.
      for (auto& v : b.c3.w) v *= 0.3f;
      b.c3.gw = cu::pack_conv2d(ctx, b.c3.w.data(), b.c3.b.data(), cout, width, 1, 1, 1);
      if (i == 0) {
        b.has_down = true;
        b.down = make_layer(conv_shape(1, cin, h, h, cout, 1, stride, 0), rng, ctx);
        flops(b.down.s);
      }
      flops(b.c1.s);
      flops(b.c2.s);
      flops(b.c3.s);
      net.blocks.push_back(std::move(b));
      cin = cout;
      h = ho;
    }
  }
  net.fc_w.resize(1000 * 2048);
  net.fc_b.resize(1000);
  fill(net.fc_w, rng, 0.05f);
  fill(net.fc_b, rng, 0.1f);
  net.fc = cu::pack_gemm(ctx, net.fc_w.data(), net.fc_b.data(), 1000, 2048);
  net.gflop_per_image += 2.0 * 2048 * 1000 / 1e9;
  return net;
}

// Activation buffers for one batch size (allocated once, reused every run).
struct Acts {
  std::unique_ptr<Dev> in, a, b, t1, t2, ds, pooled, out;
};
static size_t max_act(const ResNet50& net, int64_t batch) {
  size_t m = out_count(with_batch(net.stem.s, batch));
  for (auto& b : net.blocks) {
    m = std::max({m, out_count(with_batch(b.c1.s, batch)), out_count(with_batch(b.c2.s, batch)),
                  out_count(with_batch(b.c3.s, batch))});
  }
  return m;
}
static Acts make_acts(cu::Context& ctx, const ResNet50& net, int64_t batch) {
  Acts a;
  const size_t m = max_act(net, batch);
  a.in.reset(new Dev(ctx, size_t(batch * 3 * net.hw * net.hw)));
  a.a.reset(new Dev(ctx, m));
  a.b.reset(new Dev(ctx, m));
  a.t1.reset(new Dev(ctx, m));
  a.t2.reset(new Dev(ctx, m));
  a.ds.reset(new Dev(ctx, m));
  a.pooled.reset(new Dev(ctx, size_t(batch * 2048)));
  a.out.reset(new Dev(ctx, size_t(batch * 1000)));
  return a;
}

// Enqueues one forward pass on ctx's stream: input already in acts.in; logits in acts.out.
static void forward_gpu(cu::Context& ctx, const ResNet50& net, Acts& A, int64_t batch, cu::MathMode mode) {
  cu::conv2d(ctx, with_batch(net.stem.s, batch), *net.stem.gw, A.in->p, nullptr, true, A.t1->p, mode);
  cu::Pool2dShape p = net.pool;
  p.n = batch;
  cu::max_pool2d(ctx, p, A.t1->p, A.a->p);
  float* cur = A.a->p;
  float* nxt = A.b->p;
  for (const Block& b : net.blocks) {
    cu::conv2d(ctx, with_batch(b.c1.s, batch), *b.c1.gw, cur, nullptr, true, A.t1->p, mode);
    cu::conv2d(ctx, with_batch(b.c2.s, batch), *b.c2.gw, A.t1->p, nullptr, true, A.t2->p, mode);
    const float* identity = cur;
    if (b.has_down) {
      cu::conv2d(ctx, with_batch(b.down.s, batch), *b.down.gw, cur, nullptr, false, A.ds->p, mode);
      identity = A.ds->p;
    }
    cu::conv2d(ctx, with_batch(b.c3.s, batch), *b.c3.gw, A.t2->p, identity, true, nxt, mode);
    std::swap(cur, nxt);
  }
  const auto& last = net.blocks.back().c3.s;
  cu::global_average_pool(ctx, batch, 2048, last.out_h * last.out_w, cur, A.pooled->p);
  cu::gemm(ctx, *net.fc, A.pooled->p, batch, false, A.out->p, mode);
}

static std::vector<float> forward_ref(ResNet50& net, const std::vector<float>& input, int64_t batch) {
  auto run = [&](ConvLayer& L, const std::vector<float>& x, const float* res, bool relu) {
    std::vector<float> y(out_count(with_batch(L.s, batch)));
    L.s = with_batch(L.s, batch);
    ref_conv(L, x.data(), res, relu, y.data());
    return y;
  };
  std::vector<float> t = run(net.stem, input, nullptr, true);
  const auto& p = net.pool;
  std::vector<float> cur(size_t(batch * 64 * p.out_h * p.out_w));
  for (int64_t b = 0; b < batch * 64; ++b)
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        float m = -INFINITY;
        for (int r = 0; r < 3; ++r)
          for (int q = 0; q < 3; ++q) {
            const int64_t ih = oh * 2 - 1 + r, iw = ow * 2 - 1 + q;
            if (ih >= 0 && ih < p.h && iw >= 0 && iw < p.w) m = std::max(m, t[size_t((b * p.h + ih) * p.w + iw)]);
          }
        cur[size_t((b * p.out_h + oh) * p.out_w + ow)] = m;
      }
  for (Block& b : net.blocks) {
    auto t1 = run(b.c1, cur, nullptr, true);
    auto t2 = run(b.c2, t1, nullptr, true);
    std::vector<float> ds;
    if (b.has_down) ds = run(b.down, cur, nullptr, false);
    cur = run(b.c3, t2, b.has_down ? ds.data() : cur.data(), true);
  }
  const auto& last = net.blocks.back().c3.s;
  const int64_t hw = last.out_h * last.out_w;
  std::vector<float> logits(size_t(batch * 1000));
  for (int64_t i = 0; i < batch; ++i) {
    std::vector<double> pooled(2048);
    for (int64_t c = 0; c < 2048; ++c) {
      double s = 0;
      for (int64_t j = 0; j < hw; ++j) s += cur[size_t((i * 2048 + c) * hw + j)];
      pooled[size_t(c)] = s / hw;
    }
    for (int64_t j = 0; j < 1000; ++j) {
      double s = net.fc_b[size_t(j)];
      for (int64_t c = 0; c < 2048; ++c) s += pooled[size_t(c)] * net.fc_w[size_t(j * 2048 + c)];
      logits[size_t(i * 1000 + j)] = float(s);
    }
  }
  return logits;
}

static void test_resnet50(cu::Context& ctx, std::mt19937& rng, bool quick) {
  const int64_t batch = quick ? 1 : 2;
  const int64_t hw = 224;
  ResNet50 net = build_resnet50(ctx, hw, rng);
  std::vector<float> input(size_t(batch * 3 * hw * hw));
  fill(input, rng);
  const auto t0 = Clock::now();
  const auto ref = forward_ref(net, input, batch);
  const double ref_s = std::chrono::duration<double>(Clock::now() - t0).count();
  report("\n### ResNet-50 (random weights, BN folded) on the device vs %s, batch %lld\n\n"
         "Reference forward took %.1f s on the CPU.\n\n| case | max err / max\\|ref\\| | tol | |\n|---|---|---|---|\n",
         ref_name(), (long long)batch, ref_s);
  Acts A = make_acts(ctx, net, batch);
  cu::upload(ctx, A.in->p, input.data(), input.size());
  for (cu::MathMode mode : {cu::MathMode::fp32, cu::MathMode::tf32}) {
    forward_gpu(ctx, net, A, batch, mode);
    char name[128];
    std::snprintf(name, sizeof name, "ResNet-50 logits [%s]", cu::math_mode_name(mode));
    expect_close(name, A.out->get(), ref, mode == cu::MathMode::fp32 ? 1e-5 : 1e-3);
  }
}

// Two contexts on two host threads run the same conv chain concurrently; both
// must reproduce the single-threaded result bit for bit.
static void test_concurrency(std::mt19937& rng) {
  auto c0 = cu::Context::create(0);
  const auto s = conv_shape(4, 64, 28, 28, 64, 3, 1, 1);
  ConvLayer L = make_layer(s, rng, *c0);
  std::vector<float> x(in_count(s));
  fill(x, rng);
  auto chain = [&](cu::Context& ctx) {
    Dev a(ctx, x), b(ctx, out_count(s));
    for (int i = 0; i < 10; ++i) {
      cu::conv2d(ctx, s, *L.gw, i % 2 ? b.p : a.p, nullptr, true, i % 2 ? a.p : b.p, cu::MathMode::tf32);
    }
    return a.get();
  };
  const auto expected = chain(*c0);
  std::atomic<int> bad{0};
  std::vector<std::thread> th;
  for (int t = 0; t < 4; ++t) {
    th.emplace_back([&] {
      auto ctx = cu::Context::create(0);
      for (int rep = 0; rep < 3; ++rep)
        if (chain(*ctx) != expected) ++bad;
    });
  }
  for (auto& t : th) t.join();
  if (bad) ++failures;
  report("\n| 4 threads x 4 contexts, same conv chain | %s |\n", bad ? "**FAIL** (results differ)" : "ok (bit-identical)");
}

// ---- benchmark ---------------------------------------------------------------------------------
static double time_ms(cu::Context& ctx, int iters, const std::function<void()>& f) {
  f();
  ctx.synchronize();
  const auto t0 = Clock::now();
  for (int i = 0; i < iters; ++i) f();
  ctx.synchronize();
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / iters;
}

static void bench(cu::Context& ctx, std::mt19937& rng, bool quick) {
  report("\n### GEMM kernels (1x1 conv 1024->1024, batch 64, 14x14: M=1024 N=12544 K=1024)\n\n| mode | kernel | ms | TFLOP/s |\n|---|---|---|---|\n");
  {
    const auto s = conv_shape(64, 1024, 14, 14, 1024, 1, 1, 0);
    ConvLayer L = make_layer(s, rng, ctx);
    Dev x(ctx, in_count(s)), y(ctx, out_count(s));
    const double flop = 2.0 * 1024 * 1024 * 12544;
    for (cu::MathMode mode : {cu::MathMode::fp32, cu::MathMode::tf32}) {
      const double ms = time_ms(ctx, 10, [&] { cu::conv2d(ctx, s, *L.gw, x.p, nullptr, true, y.p, mode); });
      report("| %s | %s | %.3f | %.1f |\n", cu::math_mode_name(mode), cu::conv2d_kernel_name(ctx, s, mode), ms, flop / ms / 1e9);
    }
  }
  ResNet50 net = build_resnet50(ctx, 224, rng);
  report("\n### ResNet-50 forward on the device (224x224, %.2f GFLOP/image; input already on the device)\n\n"
         "| mode | batch | ms / batch | images/s | TFLOP/s |\n|---|---|---|---|---|\n", net.gflop_per_image);
  for (int64_t batch : {int64_t(1), int64_t(64)}) {
    Acts A = make_acts(ctx, net, batch);
    std::vector<float> input(size_t(batch * 3 * 224 * 224));
    fill(input, rng);
    cu::upload(ctx, A.in->p, input.data(), input.size());
    for (cu::MathMode mode : {cu::MathMode::fp32, cu::MathMode::tf32}) {
      const int iters = batch == 1 ? 20 : (quick ? 3 : 10);
      const double ms = time_ms(ctx, iters, [&] { forward_gpu(ctx, net, A, batch, mode); });
      report("| %s | %lld | %.2f | %.1f | %.1f |\n", cu::math_mode_name(mode), (long long)batch, ms, batch * 1000.0 / ms,
             net.gflop_per_image * batch / ms);
      std::fprintf(stderr, "RESULT resnet50 mode=%s batch=%lld img_s=%.1f\n", cu::math_mode_name(mode), (long long)batch,
                   batch * 1000.0 / ms);
    }
  }
}

// Per-layer breakdown of the ResNet-50 convolutions at batch 64 (unique shapes),
// to show where the time goes.
static void bench_layers(cu::Context& ctx, std::mt19937& rng) {
  ResNet50 net = build_resnet50(ctx, 224, rng);
  std::vector<const ConvLayer*> layers = {&net.stem};
  for (const Block& b : net.blocks) {
    layers.push_back(&b.c1);
    layers.push_back(&b.c2);
    layers.push_back(&b.c3);
    if (b.has_down) layers.push_back(&b.down);
  }
  struct Row {
    cu::Conv2dShape s;
    const ConvLayer* L;
    int count;
  };
  std::vector<Row> rows;
  for (const ConvLayer* L : layers) {
    bool found = false;
    for (Row& r : rows) {
      if (std::memcmp(&r.s, &L->s, sizeof r.s) == 0) {
        ++r.count;
        found = true;
      }
    }
    if (!found) rows.push_back({L->s, L, 1});
  }
  report("\n### ResNet-50 convolutions at batch 64, one row per distinct shape (x count in the network)\n\n"
         "| cin->cout, k, stride, in HxW | x | kernel (tf32) | tf32 ms | tf32 TFLOP/s | fp32 ms | fp32 TFLOP/s |\n|---|---|---|---|---|---|---|\n");
  double total[2] = {0, 0};
  for (const Row& r : rows) {
    const cu::Conv2dShape s = with_batch(r.s, 64);
    Dev x(ctx, in_count(s)), y(ctx, out_count(s)), res(ctx, out_count(s));
    const double flop = 2.0 * s.n * s.c_out * s.out_h * s.out_w * (s.c_in / s.groups) * s.kh * s.kw;
    double ms[2];
    int i = 0;
    for (cu::MathMode mode : {cu::MathMode::tf32, cu::MathMode::fp32}) {
      ms[i] = time_ms(ctx, 5, [&] { cu::conv2d(ctx, s, *r.L->gw, x.p, res.p, true, y.p, mode); });
      total[i] += ms[i] * r.count;
      ++i;
    }
    report("| %lld->%lld, %lldx%lld, s%lld, %lldx%lld | %d | %s | %.3f | %.1f | %.3f | %.1f |\n", (long long)s.c_in,
           (long long)s.c_out, (long long)s.kh, (long long)s.kw, (long long)s.stride_h, (long long)s.h, (long long)s.w,
           r.count, cu::conv2d_kernel_name(ctx, s, cu::MathMode::tf32), ms[0], flop / ms[0] / 1e9, ms[1],
           flop / ms[1] / 1e9);
  }
  report("\nSum of conv times x count: tf32 %.2f ms, fp32 %.2f ms per batch of 64.\n", total[0], total[1]);
}

int main(int argc, char** argv) {
  const char* md_path = std::getenv("RESNODE_CUDA_TEST_MD");  // or --md FILE
  bool quick = false, bench_only = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--md") && i + 1 < argc) md_path = argv[++i];
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--bench-only")) bench_only = true;
  }
  const cu::DeviceStatus& st = cu::device_status();
  if (!st.available) {
    std::printf("SKIP: no CUDA device: %s\n", st.reason.c_str());
    return 77;
  }
  report("## CUDA kernel tests on %s\n", st.device.c_str());
  try {
    auto ctx = cu::Context::create(0);
    std::mt19937 rng(42);
    if (!bench_only) {
      test_convs(*ctx, rng, quick);
      test_other_ops(*ctx, rng);
      test_concurrency(rng);
      test_resnet50(*ctx, rng, quick);
    }
    bench(*ctx, rng, quick);
    if (!quick) bench_layers(*ctx, rng);
    ctx->synchronize();
  } catch (const std::exception& e) {
    report("\n**ERROR**: %s\n", e.what());
    ++failures;
  }
  report("\n%s\n", failures ? "**cuda_gpu: FAILED**" : "cuda_gpu: all passed");
  if (md_path) {
    if (FILE* f = std::fopen(md_path, "w")) {
      std::fputs(md.c_str(), f);
      std::fclose(f);
    }
  }
  return failures ? 1 : 0;
}
