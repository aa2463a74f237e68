// Driver probe, not a library kernel: ResNet-50's 52 bottleneck convs (after the stem), chained in
// network order on NHWC buffers as the plan runs them, timed per layer on the library's
// f32_conv2d_nhwc and on the layout probe's schedule (bench/probes/igemm-nhwc-probe.cc: a static
// split of the panel-major (N panel x M tile) list, one contiguous range per thread, on the
// library's own micro-kernel and pool), passes alternating, so the two compare in the same minutes
// (issue 22). Each layer's library output is checked against the probe schedule's.
// Build (from the repository root; AVX-512 flags for the one AVX-512 kernel file, as binding.gyp):
//   A="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma"; S="-std=c++17 -O3 -pthread -Inative/cpu"
//   g++ $S -c native/cpu/igemm/f32_igemm_14x32__avx512f.cc $A -o /tmp/k512.o
//   g++ $S -c native/cpu/igemm/f32_igemm_7x32__avx512f.cc $A -o /tmp/k7.o
//   g++ $S -c native/cpu/igemm/f32_igemm_6x16__avx2.cc -mavx2 -mfma -o /tmp/k2.o
//   g++ $S -c native/cpu/peak__avx512bf16.cc $A -mavx512bf16 -o /tmp/pk.o
//   g++ $S bench/probes/igemm-driver-bench.cc native/cpu/igemm/f32_conv2d_nhwc.cc \
//     native/cpu/igemm/f32_igemm_4x8__scalar.cc native/cpu/threadpool.cc native/cpu/work_split.cc \
//     native/cpu/scratch.cc native/cpu/isa.cc /tmp/k512.o /tmp/k7.o /tmp/k2.o /tmp/pk.o -o /tmp/igemm-driver
//   /tmp/igemm-driver [batch=1] [passes=20] [threads=2]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "igemm/f32_conv2d_nhwc.h"
#include "isa.h"
#include "threadpool.h"

using namespace resnode::cpu;

namespace {

struct Layer {
  std::string name;
  int64_t hw, cin, cout, k, stride;
  bool relu, residual;  // residual: the block's shortcut is added before the ReLU
};

// torchvision ResNet-50 (stride on the 3x3), after the stem and max pool.
std::vector<Layer> resnet50_layers() {
  std::vector<Layer> ls;
  const int64_t blocks[4] = {3, 4, 6, 3}, widths[4] = {64, 128, 256, 512};
  int64_t hw = 56, cin = 64;
  for (int st = 0; st < 4; ++st) {
    const int64_t w = widths[st], out = w * 4;
    for (int64_t b = 0; b < blocks[st]; ++b) {
      const int64_t s = b == 0 && st > 0 ? 2 : 1, ohw = hw / s;
      const std::string tag = "s" + std::to_string(st + 1) + "b" + std::to_string(b + 1);
      ls.push_back({tag + ".reduce", hw, cin, w, 1, 1, true, false});
      ls.push_back({tag + ".3x3", hw, w, w, 3, s, true, false});
      if (b == 0) ls.push_back({tag + ".down", hw, cin, out, 1, s, false, false});
      ls.push_back({tag + ".expand", ohw, w, out, 1, 1, true, true});
      hw = ohw;
      cin = out;
    }
  }
  return ls;
}

struct Conv {
  Layer l;
  F32NhwcConvShape s;
  F32NhwcConvPacked p;
  F32NhwcIndirection ind;
  std::vector<float> x, y, res;
};

// The probe's schedule on the library kernel: the (panel, tile) list panel-major, cut into one
// contiguous range per thread.
void probe_schedule(const Conv& c, const float* x, const float* res, float* y, int threads) {
  const IgemmConfig& cfg = *c.ind.config;
  const int64_t mr = int64_t(cfg.mr), nr = int64_t(cfg.nr), ks = c.s.kh * c.s.kw, k = ks * c.p.c_in;
  const int64_t panels = (c.p.c_out + nr - 1) / nr, work = panels * c.ind.m_tiles;
  const Clamp act = c.l.relu ? Clamp::relu(true) : Clamp{};
  parallel_for(size_t(threads), threads, [&](size_t t) {
    const int64_t lo = work * int64_t(t) / threads, hi = work * int64_t(t + 1) / threads;
    for (int64_t q = lo; q < hi; ++q) {
      const int64_t panel = q / c.ind.m_tiles, tile = q % c.ind.m_tiles;
      const int64_t row = tile * mr, col = panel * nr;
      GemmEpilogue ep;
      ep.bias_n = c.p.bias.data() + col;
      ep.residual = res ? res + row * c.p.c_out + col : nullptr;
      ep.ld_residual = size_t(c.p.c_out);
      ep.act = act;
      cfg.ukernel(size_t(std::min(mr, c.ind.m - row)), size_t(std::min(nr, c.p.c_out - col)), size_t(c.p.c_in),
                  size_t(ks), c.ind.rows.data() + tile * mr * ks, c.p.w.data() + panel * k * nr,
                  y + row * c.p.c_out + col, size_t(c.p.c_out), reinterpret_cast<uintptr_t>(x),
                  c.p.zero.data(), &ep);
    }
  });
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t batch = argc > 1 ? std::atoi(argv[1]) : 1;
  const int passes = argc > 2 ? std::atoi(argv[2]) : 20;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const Isa isa = active_isa();
  std::vector<Conv> convs;
  unsigned seed = 1;
  auto rnd = [&] { seed = seed * 1664525u + 1013904223u; return float(int(seed >> 9) % 2001 - 1000) / 1000.f; };
  for (const Layer& l : resnet50_layers()) {
    Conv c;
    c.l = l;
    const int64_t pad = (l.k - 1) / 2, ohw = (l.hw + 2 * pad - l.k) / l.stride + 1;
    c.s = {batch, l.hw, l.hw, l.cin, l.k, l.k, l.stride, l.stride, 1, 1, pad, pad, ohw, ohw};
    std::vector<float> w(size_t(l.cout * l.cin * l.k * l.k)), b(size_t(l.cout));
    const float scale = 1.f / std::sqrt(float(l.cin * l.k * l.k));
    for (float& v : w) v = rnd() * scale;
    for (float& v : b) v = rnd() * 0.1f;
    c.p = f32_conv_nhwc_pack(isa, w.data(), b.data(), l.cout, l.cin, l.k, l.k);
    c.x.resize(size_t(batch * l.hw * l.hw * l.cin));
    for (float& v : c.x) v = rnd();
    c.y.resize(size_t(batch * ohw * ohw * l.cout));
    if (l.residual) {
      c.res.resize(c.y.size());
      for (float& v : c.res) v = rnd();
    }
    c.ind = f32_conv_nhwc_indirection(c.p, c.s);
    convs.push_back(std::move(c));
  }
  std::printf("kernel %s, batch %lld, %d threads, %d passes\n", convs[0].p.config->name, (long long)batch, threads,
              passes);
  // Check: the library's output against the probe schedule's, every layer.
  for (Conv& c : convs) {
    std::vector<float> ref(c.y.size());
    probe_schedule(c, c.x.data(), c.l.residual ? c.res.data() : nullptr, ref.data(), threads);
    f32_conv2d_nhwc(c.p, c.s, c.ind, c.x.data(), c.l.residual ? c.res.data() : nullptr,
                    c.l.relu ? Clamp::relu(true) : Clamp{}, c.y.data(), threads);
    for (size_t i = 0; i < ref.size(); ++i)
      if (ref[i] != c.y[i]) {
        std::printf("MISMATCH %s at %zu: %g vs %g\n", c.l.name.c_str(), i, c.y[i], ref[i]);
        return 1;
      }
  }
  // The chain as the plan runs it: each conv reads the buffer the previous one wrote, the expand
  // conv writes over its residual (the block input, or the downsample's output). Variants
  // (0 = the library's f32_conv2d_nhwc, -1 = the probe schedule) take whole passes in turn, so
  // each layer sees the cache state the plan gives it.
  const std::vector<int> vars{0, -1};
  size_t biggest = 0;
  for (const Conv& c : convs) biggest = std::max({biggest, c.x.size(), c.y.size()});
  std::vector<std::vector<float>> bufs(4, std::vector<float>(biggest));
  for (auto& b : bufs) for (float& v : b) v = rnd();
  auto med = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
  auto mn = [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); };
  const size_t L = convs.size();
  std::vector<std::vector<std::vector<double>>> t(vars.size(), std::vector<std::vector<double>>(L));
  std::vector<std::vector<double>> totals(vars.size());
  for (int pass = 0; pass < passes + 1; ++pass)
    for (size_t j = 0; j < vars.size(); ++j) {
      const size_t v = (j + size_t(pass)) % vars.size();
      float *X = bufs[0].data(), *T1 = bufs[1].data(), *T2 = bufs[2].data(), *D = bufs[3].data();
      double total = 0;
      for (size_t i = 0; i < L; ++i) {
        Conv& c = convs[i];
        const std::string kind = c.l.name.substr(c.l.name.find('.') + 1);
        const float* in = kind == "reduce" || kind == "down" ? X : kind == "3x3" ? T1 : T2;
        float* out = kind == "reduce" ? T1 : kind == "3x3" ? T2 : D;
        const bool first_block = c.l.name.find("b1.") != std::string::npos;
        const float* res = nullptr;
        if (kind == "expand") {
          out = first_block ? D : X;
          res = out;
        }
        const double t0 = now_ms();
        if (vars[v] < 0)
          probe_schedule(c, in, res, out, threads);
        else
          f32_conv2d_nhwc(c.p, c.s, c.ind, in, res, c.l.relu ? Clamp::relu(true) : Clamp{}, out, threads);
        const double ms = now_ms() - t0;
        total += ms;
        if (pass > 0) t[v][i].push_back(ms);
        if (kind == "expand" && first_block) std::swap(X, D);  // the block's output is the next block's input
      }
      if (pass > 0) totals[v].push_back(total);
    }
  std::vector<double> sum_min(vars.size());
  for (size_t i = 0; i < L; ++i) {
    const Conv& c = convs[i];
    char shape[64];
    std::snprintf(shape, sizeof shape, "%lldx%lld %lld->%lld k%lld s%lld%s", (long long)c.l.hw, (long long)c.l.hw,
                  (long long)c.l.cin, (long long)c.l.cout, (long long)c.l.k, (long long)c.l.stride,
                  c.l.residual ? " +r" : "");
    std::printf("%-12s %-24s", c.l.name.c_str(), shape);
    for (size_t v = 0; v < vars.size(); ++v) {
      sum_min[v] += mn(t[v][i]);
      std::printf(" | v%d %.3f/%.3f", vars[v], mn(t[v][i]), med(t[v][i]));
      if (v) std::printf(" (%.2f/%.2f)", mn(t[v][i]) / mn(t[0][i]), med(t[v][i]) / med(t[0][i]));
    }
    std::printf("\n");
  }
  std::printf("chain total (min/med of passes; sum of layer mins)");
  for (size_t v = 0; v < vars.size(); ++v)
    std::printf(" | v%d %.2f/%.2f; %.2f (%.3f/%.3f; %.3f)", vars[v], mn(totals[v]), med(totals[v]), sum_min[v],
                mn(totals[v]) / mn(totals[0]), med(totals[v]) / med(totals[0]), sum_min[v] / sum_min[0]);
  std::printf("\n");
  return 0;
}
