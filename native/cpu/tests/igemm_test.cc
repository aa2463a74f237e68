// Property harness for the f32 igemm micro-kernels and the NHWC conv on them (not built by npm;
// test/kernels-igemm.test.ts builds and runs it).
//
// Build and run (from the repository root):
//   sh native/cpu/tests/build.sh /tmp/igemm_test native/cpu/tests/igemm_test.cc
//   /tmp/igemm_test [cases=200] [seed]
// Each random convolution (kernels 1x1, 3x3, 7x7 and some rectangular or dilated ones, strides
// 1-2, asymmetric pads, channel counts that are not multiples of any tile, batch 1-2, a fused
// NHWC residual, ReLU or Clip or none) runs through f32_conv_nhwc_pack + the indirection + the
// tile loop on every kernel this CPU can run, on 1 and 2 threads, with the input moved to
// another address after the indirection was built; every output must match a float64 loop on
// the NCHW tensors within float32 rounding of its own terms, and nothing past y may be written.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../igemm/f32_conv2d_nhwc.h"
#include "../isa.h"

using namespace resnode::cpu;

int main(int argc, char** argv) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 200;
  std::mt19937 rng(argc > 2 ? unsigned(std::atoi(argv[2])) : 7u);
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::uniform_real_distribution<float> val(-1.f, 1.f);
  std::vector<Isa> isas{Isa::scalar};
  if (cpu_features().avx2_fma) isas.push_back(Isa::avx2);
  if (cpu_features().avx512) isas.push_back(Isa::avx512);
  const float kNaN = std::nanf("");
  long checked = 0;
  int half_cases = 0;  // cases whose rows the indirection cut for a half-rows kernel
  int failures = 0;
  for (int cs = 0; cs < cases && failures < 5; ++cs) {
    F32NhwcConvShape s;
    const int kinds[] = {1, 1, 3, 3, 3, 7};
    s.kh = kinds[uni(0, 5)];
    s.kw = uni(0, 4) == 0 ? kinds[uni(0, 5)] : s.kh;
    s.sh = uni(1, 2);
    s.sw = uni(0, 3) == 0 ? uni(1, 2) : s.sh;
    s.dh = uni(0, 5) == 0 ? 2 : 1;
    s.dw = s.dh;
    s.n = uni(1, 2);
    s.c = uni(0, 3) == 0 ? uni(1, 4) : uni(1, 70);
    s.h = uni(1, 20);
    s.w = uni(1, 20);
    s.pad_top = uni(0, int(s.kh - 1) * int(s.dh));
    s.pad_left = uni(0, int(s.kw - 1) * int(s.dw));
    const int64_t pad_bottom = uni(0, int(s.kh - 1)), pad_right = uni(0, int(s.kw - 1));
    const int64_t ekh = (s.kh - 1) * s.dh + 1, ekw = (s.kw - 1) * s.dw + 1;
    if (s.h + s.pad_top + pad_bottom < ekh || s.w + s.pad_left + pad_right < ekw) { --cs; continue; }
    s.oh = (s.h + s.pad_top + pad_bottom - ekh) / s.sh + 1;
    s.ow = (s.w + s.pad_left + pad_right - ekw) / s.sw + 1;
    const int64_t c_out = uni(0, 3) == 0 ? uni(1, 8) : uni(1, 80), ks = s.kh * s.kw, m = s.n * s.oh * s.ow;
    const bool has_bias = uni(0, 3) != 0, has_res = uni(0, 1) == 1;
    const int act_kind = uni(0, 2);
    const Clamp act = act_kind == 0 ? Clamp{} : act_kind == 1 ? Clamp::relu(true) : Clamp{-0.5f, 0.75f};
    std::vector<float> x(size_t(s.n * s.c * s.h * s.w)), w(size_t(c_out * s.c * ks)), bias(static_cast<size_t>(c_out)),
        res(size_t(m * c_out));
    for (float& v : x) v = val(rng);
    for (float& v : w) v = val(rng);
    for (float& v : bias) v = val(rng);
    for (float& v : res) v = val(rng);
    // The reference reads NCHW x; the conv reads the same values as NHWC.
    std::vector<float> x_nhwc(x.size());
    for (int64_t b = 0; b < s.n; ++b)
      for (int64_t c = 0; c < s.c; ++c)
        for (int64_t i = 0; i < s.h * s.w; ++i) x_nhwc[size_t((b * s.h * s.w + i) * s.c + c)] = x[size_t((b * s.c + c) * s.h * s.w + i)];
    std::vector<double> ref(size_t(m * c_out)), mag(size_t(m * c_out));
    for (int64_t b = 0; b < s.n; ++b)
      for (int64_t o = 0; o < c_out; ++o)
        for (int64_t oy = 0; oy < s.oh; ++oy)
          for (int64_t ox = 0; ox < s.ow; ++ox) {
            const size_t at = size_t(((b * s.oh + oy) * s.ow + ox) * c_out + o);
            double acc = has_bias ? bias[size_t(o)] : 0.0, sum_abs = std::fabs(acc);
            for (int64_t c = 0; c < s.c; ++c)
              for (int64_t ky = 0; ky < s.kh; ++ky)
                for (int64_t kx = 0; kx < s.kw; ++kx) {
                  const int64_t iy = oy * s.sh - s.pad_top + ky * s.dh, ix = ox * s.sw - s.pad_left + kx * s.dw;
                  if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                  const double t = double(x[size_t(((b * s.c + c) * s.h + iy) * s.w + ix)]) *
                                   double(w[size_t(((o * s.c + c) * s.kh + ky) * s.kw + kx)]);
                  acc += t;
                  sum_abs += std::fabs(t);
                }
            if (has_res) { acc += res[at]; sum_abs += std::fabs(res[at]); }
            ref[at] = std::min(std::max(acc, double(act.lo)), double(act.hi));
            mag[at] = sum_abs;
          }
    const double tol = 4 * 1.2e-7 * std::sqrt(double(s.c * ks + 2));
    for (Isa isa : isas) {
      const F32NhwcConvPacked p = f32_conv_nhwc_pack(isa, w.data(), has_bias ? bias.data() : nullptr, c_out, s.c, s.kh, s.kw);
      const F32NhwcIndirection ind = f32_conv_nhwc_indirection(p, s);
      if (ind.config == p.config->half_rows) ++half_cases;
      for (int threads = 1; threads <= 2; ++threads) {
        // The input at another address than any earlier run's: the offsets must follow it.
        std::vector<float> x_run(x_nhwc.size() + size_t(threads) * 3);
        std::copy(x_nhwc.begin(), x_nhwc.end(), x_run.begin() + threads * 3);
        std::vector<float> y(size_t(m * c_out) + 16, kNaN);
        for (size_t i = size_t(m * c_out); i < y.size(); ++i) y[i] = 12345.f;
        f32_conv2d_nhwc(p, s, ind, x_run.data() + threads * 3, has_res ? res.data() : nullptr, act, y.data(), threads);
        double worst = 0;
        for (size_t i = 0; i < size_t(m * c_out); ++i) {
          const double e = std::fabs(double(y[i]) - ref[i]);  // NaN (unwritten) fails below
          if (!(e <= tol * mag[i] + 1e-30)) { worst = std::isnan(e) ? INFINITY : std::max(worst, e / (mag[i] + 1e-30)); }
        }
        bool tail_ok = true;
        for (size_t i = size_t(m * c_out); i < y.size(); ++i) tail_ok = tail_ok && y[i] == 12345.f;
        checked += m * c_out;
        if (worst > 0 || !tail_ok) {
          ++failures;
          std::printf("FAIL %s threads %d: n%lld %lldx%lld c%lld -> %lld k%lldx%lld s%lld,%lld d%lld pads %lld,%lld,%lld,%lld res %d act %d: %s %.3g\n",
                      ind.config->name, threads, (long long)s.n, (long long)s.h, (long long)s.w, (long long)s.c, (long long)c_out,
                      (long long)s.kh, (long long)s.kw, (long long)s.sh, (long long)s.sw, (long long)s.dh,
                      (long long)s.pad_top, (long long)s.pad_left, (long long)pad_bottom, (long long)pad_right, int(has_res),
                      act_kind, tail_ok ? "error/magnitude" : "wrote past y,", worst);
        }
      }
    }
  }
  if (failures) return 1;
  std::string names;
  for (Isa isa : isas) {
    names += std::string(names.empty() ? "" : ", ") + igemm_config(isa).name;
    const IgemmConfig* half = igemm_config(isa).half_rows;
    if (half) names += ", " + std::string(half->name) + " (" + std::to_string(half_cases) + " cases)";
  }
  std::printf("ok: %d cases, %ld outputs checked on %s\n", cases, checked, names.c_str());
  return 0;
}
