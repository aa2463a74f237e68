// Property harness for the qu8s8 GEMM micro-kernels (not built by npm; test/int8-qgemm.test.ts
// builds and runs it).
//
// Build and run (from the repository root):
//   sh native/cpu/tests/build.sh /tmp/qgemm_test native/cpu/tests/qgemm_test.cc
//   /tmp/qgemm_test [cases=300] [seed]
//   /tmp/qgemm_test bench   (one thread: GOP/s on ResNet-50's conv GEMM shapes, as % of the
//                            vpdpbusd peak measured in the same process, the two alternating)
// Then cases / 3 random convolutions (1x1 to 7x7, strides 1-2, asymmetric pads, odd channel
// counts, batch 1-2) through qu8_conv2d_nhwc on NHWC u8 against a direct NCHW integer loop.
// Each random GEMM (m 1-40, n 1-70, k 1-300, so odd counts, partial row tiles, partial channel
// blocks and a k that is not a multiple of 4; A and C rows strided past their ends; input and
// output zero points drawn from the edges 0 and 255 as well as between; clamps as a fused ReLU)
// runs through qu8s8_pack + qu8s8_gemm on every kernel this CPU can run, and every output byte
// must equal an independent loop: acc = bias + sum (a - z_a) * w in int64, then
// clamp(nearbyint(float(acc) * multiplier) + z_c, qmin, qmax).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../isa.h"
#include "../peak.h"
#include "../qgemm/qu8_conv2d_nhwc.h"
#include "../qgemm/qu8s8_gemm.h"

using namespace resnode::cpu;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ResNet-18/50's convs at batch 1 (224x224) through qu8_conv2d_nhwc, the indirect kernel against the
// same tile on gathered panels (its config without igemm), alternating, best of 15 rounds, on
// `threads` threads (peak: one thread's).
void bench_convs(const Qu8s8GemmConfig& cfg, double peak, int threads) {
  struct Conv { int64_t c, hw, cout, k, stride; const char* what; };
  const Conv convs[] = {{3, 224, 64, 7, 2, "stem 7x7 s2 c3"}, {64, 56, 64, 3, 1, "layer1 3x3 64"}, {64, 56, 128, 3, 2, "layer2.0 3x3 s2"}, {128, 28, 128, 3, 1, "layer2 3x3 128"},
                        {256, 14, 256, 3, 1, "layer3 3x3 256"}, {512, 7, 512, 3, 1, "layer4 3x3 512"}, {256, 56, 64, 1, 1, "r50 1x1 256->64"},
                        {64, 56, 256, 1, 1, "r50 1x1 64->256"}, {256, 56, 512, 1, 2, "r50 1x1 s2 down"},
                        {64, 158, 256, 1, 1, "1x1 64->256 b8-size"}};  // 158^2 pixels, about batch 8 at 56x56
  Qu8s8GemmConfig panel = cfg;
  panel.igemm = nullptr;
  const Qu8s8GemmConfig* variants[] = {&panel, &cfg};
  constexpr size_t kConvs = sizeof convs / sizeof convs[0];
  double best[kConvs][2] = {};
  for (int round = 0; round < 15; ++round)
    for (size_t i = 0; i < kConvs; ++i) {
      const Conv& v = convs[i];
      Qu8ConvShape s;
      s.c = v.c; s.h = s.w = v.hw; s.kh = s.kw = v.k; s.sh = s.sw = v.stride; s.pad_top = s.pad_left = v.k / 2;
      s.oh = s.ow = (v.hw + 2 * (v.k / 2) - v.k) / v.stride + 1;
      const int64_t k = v.k * v.k * v.c, m = s.oh * s.ow;
      std::vector<float> mult(size_t(v.cout), 1e-4f);
      std::vector<uint8_t> x(size_t(v.hw * v.hw * v.c), 7), y(size_t(m * v.cout));
      for (int which = 0; which < 2; ++which) {
        const int64_t k_tap = v.k * v.k * qu8_conv_tap_channels(*variants[which], v.c);  // GOP/s count k, not k_tap
        const std::vector<int8_t> w(size_t(v.cout * k_tap), 1);
        const Qu8s8Packed p = qu8s8_pack(w.data(), nullptr, mult.data(), v.cout, k_tap, 3, Qu8Requant{}, *variants[which]);
        const int reps = int(std::max<int64_t>(1, int64_t(5e7) / (m * v.cout * k)));
        const auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r) qu8_conv2d_nhwc(p, s, x.data(), 3, y.data(), threads);
        best[i][which] = std::max(best[i][which], 2.0 * double(m * v.cout * k) * reps / seconds_since(t0) / 1e9);
      }
    }
  std::printf("convs, %d thread(s), %% of %d x one thread's peak: panel (%s) | indirect (%s) | indirect / panel time\n", threads, threads,
              cfg.name, cfg.igemm_name);
  for (size_t i = 0; i < kConvs; ++i)
    std::printf("  %-18s %5.1f%% | %5.1f%% | %.2f\n", convs[i].what, 100 * best[i][0] / peak / threads, 100 * best[i][1] / peak / threads,
                best[i][0] / best[i][1]);
}

// Best of 20 alternating rounds of the peak loop and each shape (M = output pixels, K = kh kw cin,
// N = cout; ResNet-50 at 224x224, batch 1: the 3x3 convs as im2col rows, then 1x1 convs).
int bench() {
  if (!cpu_features().avx512_vnni) { std::printf("no AVX512_VNNI\n"); return 2; }
  const Qu8s8GemmConfig cfg = qu8s8_gemm_config(Isa::avx512, true);
  struct Shape { int64_t m, k, n; const char* what; };
  const Shape shapes[] = {{3136, 576, 64, "conv2_x 3x3"}, {784, 1152, 128, "conv3_x 3x3"}, {196, 2304, 256, "conv4_x 3x3"},
                          {49, 4608, 512, "conv5_x 3x3"}, {3136, 64, 256, "conv2_x 1x1 expand"}, {3136, 256, 64, "conv2_x 1x1 reduce"},
                          {196, 1024, 256, "conv4_x 1x1 reduce"}};
  double peak = 0;
  std::vector<double> best(sizeof shapes / sizeof shapes[0], 0);
  std::vector<Qu8s8Packed> packs;
  std::vector<std::vector<uint8_t>> as, cs;
  for (const Shape& s : shapes) {
    std::vector<int8_t> w(size_t(s.n * s.k), 1);
    std::vector<float> mult(size_t(s.n), 1e-4f);
    packs.push_back(qu8s8_pack(w.data(), nullptr, mult.data(), s.n, s.k, 3, Qu8Requant{}, cfg));
    as.emplace_back(size_t(s.m * s.k), uint8_t(7));
    cs.emplace_back(size_t(s.m * s.n));
  }
  // Short runs (about 1 ms each, like the GEMMs'), many rounds: on a shared VM a long run is
  // more likely to lose its core for a while, and best-of would then favour the GEMMs.
  for (int round = 0; round < 20; ++round) {
    const int64_t iters = 150000;
    auto t0 = std::chrono::steady_clock::now();
    volatile double sink = dpbusd_loop__avx512vnni(iters);
    (void)sink;
    peak = std::max(peak, double(iters) * 12 * 2 * 4 * 16 / seconds_since(t0) / 1e9);
    for (size_t i = 0; i < packs.size(); ++i) {
      const Shape& s = shapes[i];
      const int reps = int(std::max<int64_t>(1, int64_t(1e8) / (s.m * s.n * s.k)));
      t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < reps; ++r) qu8s8_gemm(packs[i], s.m, as[i].data(), s.k, cs[i].data(), s.n, 1);
      best[i] = std::max(best[i], 2.0 * double(s.m * s.n * s.k) * reps / seconds_since(t0) / 1e9);
    }
  }
  std::printf("vpdpbusd peak, 1 thread: %.1f GOP/s; %s:\n", peak, cfg.name);
  for (size_t i = 0; i < best.size(); ++i)
    std::printf("  %-20s M %5lld K %5lld N %4lld: %6.1f GOP/s = %5.1f%% of peak\n", shapes[i].what, (long long)shapes[i].m,
                (long long)shapes[i].k, (long long)shapes[i].n, best[i], 100 * best[i] / peak);
  bench_convs(cfg, peak, 1);
  bench_convs(cfg, peak, 2);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "bench") == 0) return bench();
  const int cases = argc > 1 ? std::atoi(argv[1]) : 300;
  std::mt19937 rng(argc > 2 ? unsigned(std::atoi(argv[2])) : 7u);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<Qu8s8GemmConfig> configs = {qu8s8_gemm_config(Isa::scalar, false)};
  if (cpu_features().avx2_fma) configs.push_back(qu8s8_gemm_config(Isa::avx2, false));
  if (cpu_features().avx512_vnni) configs.push_back(qu8s8_gemm_config(Isa::avx512, true));
  int failures = 0;
  long checked = 0;
  for (int t = 0; t < cases && failures < 10; ++t) {
    const int64_t m = uniform(1, 40), n = uniform(1, 70), k = uniform(1, 300);
    const int64_t a_stride = k + uniform(0, 5), c_stride = n + uniform(0, 5);
    const int edge[] = {0, 255};
    const int32_t za = t % 3 == 0 ? edge[t % 2] : uniform(0, 255);
    Qu8Requant r;
    r.zero_point = t % 4 == 1 ? edge[(t / 4) % 2] : uniform(0, 255);
    r.qmin = t % 5 == 2 ? r.zero_point : 0;  // a fused ReLU clamps at the zero point
    r.qmax = 255;
    std::vector<uint8_t> a(size_t(m * a_stride));
    for (auto& v : a) v = uint8_t(uniform(0, 255));
    std::vector<int8_t> w(size_t(n * k));
    for (auto& v : w) v = int8_t(uniform(-128, 127));
    std::vector<int32_t> bias(static_cast<size_t>(n));
    for (auto& v : bias) v = uniform(-100000, 100000);
    std::vector<float> mult(static_cast<size_t>(n));
    // Multipliers so that outputs spread over the whole range and past it (saturation).
    for (auto& v : mult) v = float(std::ldexp(uniform(1, 1 << 20), -20) / (60.0 * std::sqrt(double(k)) + 1) * 2);
    for (const Qu8s8GemmConfig& cfg : configs) {
      const Qu8s8Packed p = qu8s8_pack(w.data(), t % 7 == 3 ? nullptr : bias.data(), mult.data(), n, k, za, r, cfg);
      std::vector<uint8_t> c(size_t(m * c_stride), 0xA5);
      qu8s8_gemm(p, m, a.data(), a_stride, c.data(), c_stride, 1 + t % 2);
      for (int64_t i = 0; i < m && failures < 10; ++i)
        for (int64_t j = 0; j < c_stride; ++j) {
          const uint8_t got = c[size_t(i * c_stride + j)];
          if (j >= n) {
            if (got != 0xA5) { std::printf("%s: case %d wrote past row %lld's end\n", cfg.name, t, (long long)i); ++failures; }
            continue;
          }
          int64_t acc = t % 7 == 3 ? 0 : bias[size_t(j)];
          for (int64_t kk = 0; kk < k; ++kk) acc += (int64_t(a[size_t(i * a_stride + kk)]) - za) * w[size_t(j * k + kk)];
          double q = std::nearbyint(float(acc) * mult[size_t(j)]) + r.zero_point;
          q = q < r.qmin ? r.qmin : (q > r.qmax ? r.qmax : q);
          ++checked;
          if (got != uint8_t(q)) {
            std::printf("%s: case %d (m %lld n %lld k %lld) c[%lld][%lld] = %d, expected %d\n", cfg.name, t,
                        (long long)m, (long long)n, (long long)k, (long long)i, (long long)j, got, int(q));
            ++failures;
          }
        }
    }
  }
  // Convolutions on NHWC u8 (im2col or the 1x1 GEMM in place) against a direct NCHW loop over the
  // same integers, padding with the real zero (the input zero point).
  for (int t = 0; t < cases / 3 && failures < 10; ++t) {
    Qu8ConvShape s;
    // Every other case a channel count that is a multiple of 4: the indirect (igemm) kernels' convs.
    s.n = uniform(1, 2); s.c = t % 2 ? 4 * uniform(1, 6) : uniform(1, 19); s.h = uniform(1, 12); s.w = uniform(1, 12);
    // Now and then a stem-like input (3 channels, padded to 4 for the indirect kernel) large enough
    // that its tiles run on both threads (t odd).
    if (t % 10 == 7) s.c = 3, s.h = 28, s.w = 26;
    const int kk[] = {1, 3, 5, 7};
    s.kh = kk[uniform(0, 3)]; s.kw = t % 4 == 0 ? s.kh : kk[uniform(0, 3)];
    s.sh = uniform(1, 2); s.sw = uniform(1, 2);
    s.pad_top = uniform(0, int(s.kh / 2)); s.pad_left = uniform(0, int(s.kw / 2));
    const int64_t pad_bottom = uniform(0, int(s.kh / 2)), pad_right = uniform(0, int(s.kw / 2));
    if (t % 5 == 0) s.kh = s.kw = 1, s.sh = s.sw = 1, s.pad_top = s.pad_left = 0;  // the in-place 1x1 path
    const int64_t span_h = s.h + s.pad_top + (t % 5 == 0 ? 0 : pad_bottom) - s.kh, span_w = s.w + s.pad_left + (t % 5 == 0 ? 0 : pad_right) - s.kw;
    if (span_h < 0 || span_w < 0) continue;
    s.oh = span_h / s.sh + 1; s.ow = span_w / s.sw + 1;
    const int64_t cout = uniform(1, 40), k = s.kh * s.kw * s.c;
    const int32_t zx = t % 3 == 0 ? 255 * (t % 2) : uniform(0, 255);
    Qu8Requant r;
    r.zero_point = uniform(0, 255);
    r.qmin = t % 4 == 1 ? r.zero_point : 0;
    std::vector<uint8_t> x(size_t(s.n * s.h * s.w * s.c));
    for (auto& v : x) v = uint8_t(uniform(0, 255));
    std::vector<int8_t> w(size_t(cout * k));
    for (auto& v : w) v = int8_t(uniform(-128, 127));
    std::vector<int32_t> bias(static_cast<size_t>(cout));
    for (auto& v : bias) v = uniform(-50000, 50000);
    std::vector<float> mult(static_cast<size_t>(cout));
    for (auto& v : mult) v = float(std::ldexp(uniform(1, 1 << 20), -20) / (60.0 * std::sqrt(double(k)) + 1) * 2);
    for (const Qu8s8GemmConfig& cfg : configs) {
      // As packQConv2d packs them: c_tap channels per tap (c padded to 4 for the indirect kernels).
      const int64_t c_tap = qu8_conv_tap_channels(cfg, s.c);
      std::vector<int8_t> ohwi(size_t(cout * s.kh * s.kw * c_tap));
      qu8_conv_weights_ohwi(w.data(), cout, s.c, s.kh, s.kw, c_tap, ohwi.data());
      const Qu8s8Packed p = qu8s8_pack(ohwi.data(), bias.data(), mult.data(), cout, s.kh * s.kw * c_tap, zx, r, cfg);
      std::vector<uint8_t> y(size_t(s.n * s.oh * s.ow * cout));
      qu8_conv2d_nhwc(p, s, x.data(), zx, y.data(), 1 + t % 2);
      for (int64_t b = 0; b < s.n; ++b)
        for (int64_t o = 0; o < cout; ++o)
          for (int64_t oy = 0; oy < s.oh; ++oy)
            for (int64_t ox = 0; ox < s.ow; ++ox) {
              int64_t acc = bias[size_t(o)];
              for (int64_t i = 0; i < s.c; ++i)
                for (int64_t ky = 0; ky < s.kh; ++ky)
                  for (int64_t kx = 0; kx < s.kw; ++kx) {
                    const int64_t iy = oy * s.sh - s.pad_top + ky, ix = ox * s.sw - s.pad_left + kx;
                    const int64_t xv = iy < 0 || iy >= s.h || ix < 0 || ix >= s.w ? zx : x[size_t(((b * s.h + iy) * s.w + ix) * s.c + i)];
                    acc += (xv - zx) * w[size_t(((o * s.c + i) * s.kh + ky) * s.kw + kx)];
                  }
              double q = std::nearbyint(float(acc) * mult[size_t(o)]) + r.zero_point;
              q = q < r.qmin ? r.qmin : (q > r.qmax ? r.qmax : q);
              const uint8_t got = y[size_t(((b * s.oh + oy) * s.ow + ox) * cout + o)];
              ++checked;
              if (got != uint8_t(q) && failures++ < 10)
                std::printf("%s: conv case %d (c %lld %lldx%lld k %lldx%lld s %lldx%lld) y[%lld][%lld][%lld][%lld] = %d, expected %d\n", cfg.name, t,
                            (long long)s.c, (long long)s.h, (long long)s.w, (long long)s.kh, (long long)s.kw, (long long)s.sh, (long long)s.sw,
                            (long long)b, (long long)oy, (long long)ox, (long long)o, got, int(q));
            }
    }
  }
  std::printf("%s: %d cases, %ld outputs checked on", failures ? "FAIL" : "ok", cases, checked);
  for (const auto& cfg : configs) std::printf(" %s%s%s", cfg.name, cfg.igemm ? " " : "", cfg.igemm ? cfg.igemm_name : "");
  std::printf("\n");
  return failures ? 1 : 0;
}
