// Property harness for the bf16 convolution kernels (not built by npm).
//
// Build and run (from the repository root):
//   sh native/cpu/tests/build.sh /tmp/bf16_test native/cpu/tests/bf16_test.cc
//   /tmp/bf16_test [cases=300] [seed]
// Each random convolution (1x1, 3x3, 5x5, 7x7; strides 1-3; pads; dilation;
// groups; odd channel counts and K; batch 1-3; bias, residual, ReLU; 1-3
// threads) runs through pack_conv2d_bf16 + conv2d and is compared with a
// float64 loop over the bf16-rounded x and W. The bf16 products are exact in
// fp32, so the only error left is fp32 summation: |y - ref| must be at most
// (K + 3) * 2^-24 * sum|terms| (the recursive-summation bound) plus 1e-30.
// Exits 2 (skips) where bf16_available() is false.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../bf16.h"
#include "../ops.h"
#include "../pack.h"

using namespace resnode::cpu;

namespace {

// The nearest bf16 (8 significant bits, ties to even), computed independently
// of the code under test: frexp + nearbyint in the default rounding mode.
// Denormals (none in these normal(0, 1) draws) flush to zero, as vcvtne2ps2bf16.
float round_bf16(float v) {
  if (v == 0.0f || std::fabs(v) < std::ldexp(1.0f, -126)) return std::copysign(0.0f, v);
  int e;
  const double m = std::frexp(double(v), &e);  // |m| in [0.5, 1)
  return float(std::ldexp(std::nearbyint(m * 256.0) / 256.0, e));
}

int64_t out_dim(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
  const int64_t span = in + p0 + p1 - d * (k - 1) - 1;
  return span < 0 ? 0 : span / s + 1;
}

struct Case {
  Conv2dShape s;
  bool bias, residual, relu;
  int threads;
};

Case random_case(std::mt19937& rng) {
  auto U = [&](int lo, int hi) { return int(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  for (;;) {
    Case c{};
    Conv2dShape& s = c.s;
    const int ks[] = {1, 3, 5, 7};
    s.kh = ks[U(0, 3)];
    s.kw = U(0, 3) == 0 ? ks[U(0, 3)] : s.kh;
    s.n = U(1, 3);
    s.groups = U(0, 4) == 0 ? U(2, 4) : 1;
    const int64_t cin_g = U(1, 40), m_g = U(0, 3) == 0 ? U(40, 130) : U(1, 40);
    s.c_in = cin_g * s.groups;
    s.c_out = m_g * s.groups;
    s.stride_h = U(1, 3);
    s.stride_w = U(0, 1) ? s.stride_h : U(1, 3);
    s.dil_h = U(0, 4) == 0 ? 2 : 1;
    s.dil_w = U(0, 4) == 0 ? 2 : 1;
    s.pad_top = U(0, int(s.kh - 1));
    s.pad_bottom = U(0, int(s.kh - 1));
    s.pad_left = U(0, int(s.kw - 1));
    s.pad_right = U(0, int(s.kw - 1));
    s.h = U(1, 36);
    s.w = U(1, 36);
    s.out_h = out_dim(s.h, s.kh, s.stride_h, s.dil_h, s.pad_top, s.pad_bottom);
    s.out_w = out_dim(s.w, s.kw, s.stride_w, s.dil_w, s.pad_left, s.pad_right);
    if (s.out_h < 1 || s.out_w < 1) continue;
    if (s.n * s.c_out * s.out_h * s.out_w * cin_g * s.kh * s.kw > 20'000'000) continue;
    c.bias = U(0, 1);
    c.residual = U(0, 1);
    c.relu = U(0, 1);
    c.threads = U(1, 3);
    return c;
  }
}

// Checks one case; returns false and says why on a mismatch.
bool check(const Case& c, std::mt19937& rng, std::string* why) {
  const Conv2dShape& s = c.s;
  const int64_t cin_g = s.c_in / s.groups, m_g = s.c_out / s.groups;
  const int64_t k = cin_g * s.kh * s.kw;
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(size_t(s.n * s.c_in * s.h * s.w)), w(size_t(s.c_out * k)),
      bias(size_t(s.c_out)), res(size_t(s.n * s.c_out * s.out_h * s.out_w)), y(res.size(), NAN);
  for (auto& v : x) v = d(rng);
  for (auto& v : w) v = d(rng) / std::sqrt(float(k));
  for (auto& v : bias) v = d(rng);
  for (auto& v : res) v = d(rng);
  auto packed = pack_conv2d_bf16(w.data(), c.bias ? bias.data() : nullptr, s.c_out, cin_g, s.kh,
                                 s.kw, s.groups);
  conv2d(s, *packed, x.data(), c.residual ? res.data() : nullptr, c.relu, y.data(), c.threads);
  // Depthwise-like groups and the stem stay fp32 (pack_conv2d_bf16's rule): no rounding there.
  const bool rounded = packed->bf16;
  for (size_t b = 0; b < size_t(s.n); ++b)
    for (int64_t oc = 0; oc < s.c_out; ++oc) {
      const int64_t g = oc / m_g;
      for (int64_t oy = 0; oy < s.out_h; ++oy)
        for (int64_t ox = 0; ox < s.out_w; ++ox) {
          double acc = 0, abs_sum = 0;
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t ky = 0; ky < s.kh; ++ky) {
              const int64_t iy = oy * s.stride_h - s.pad_top + ky * s.dil_h;
              if (iy < 0 || iy >= s.h) continue;
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t ix = ox * s.stride_w - s.pad_left + kx * s.dil_w;
                if (ix < 0 || ix >= s.w) continue;
                float xv = x[((int64_t(b) * s.c_in + g * cin_g + ci) * s.h + iy) * s.w + ix];
                float wv = w[((oc * cin_g + ci) * s.kh + ky) * s.kw + kx];
                if (rounded) {
                  xv = round_bf16(xv);
                  wv = round_bf16(wv);
                }
                acc += double(xv) * double(wv);
                abs_sum += std::fabs(double(xv) * double(wv));
              }
            }
          const size_t o = size_t(((int64_t(b) * s.c_out + oc) * s.out_h + oy) * s.out_w + ox);
          double e = acc, extra = 0;
          if (c.bias) { e += bias[size_t(oc)]; extra += std::fabs(bias[size_t(oc)]); }
          if (c.residual) { e += res[o]; extra += std::fabs(res[o]); }
          if (c.relu && e < 0) e = 0;
          const double bound = double(k + 3) * std::ldexp(1.0, -24) * (abs_sum + extra) + 1e-30;
          if (!(std::fabs(double(y[o]) - e) <= bound)) {
            char buf[512];
            std::snprintf(buf, sizeof buf,
                          "n%lld c%lld->%lld %lldx%lld k%lldx%lld s%lld,%lld d%lld,%lld "
                          "p%lld,%lld,%lld,%lld g%lld bias%d res%d relu%d t%d: y[%zu]=%.9g ref=%.9g "
                          "bound=%.3g (%s)",
                          (long long)s.n, (long long)s.c_in, (long long)s.c_out, (long long)s.h,
                          (long long)s.w, (long long)s.kh, (long long)s.kw, (long long)s.stride_h,
                          (long long)s.stride_w, (long long)s.dil_h, (long long)s.dil_w,
                          (long long)s.pad_top, (long long)s.pad_left, (long long)s.pad_bottom,
                          (long long)s.pad_right, (long long)s.groups, c.bias, c.residual, c.relu,
                          c.threads, o, y[o], e, bound, conv2d_kernel(s, *packed));
            *why = buf;
            return false;
          }
        }
    }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (!bf16_available()) {
    std::printf("skip: %s\n", bf16_unavailable_reason());
    return 2;
  }
  const int cases = argc > 1 ? std::atoi(argv[1]) : 300;
  const unsigned seed = argc > 2 ? unsigned(std::atoi(argv[2])) : 1234u;
  std::mt19937 rng(seed);
  int failed = 0;
  for (int i = 0; i < cases; ++i) {
    const Case c = random_case(rng);
    std::string why;
    if (!check(c, rng, &why)) {
      if (++failed <= 10) std::printf("FAIL case %d: %s\n", i, why.c_str());
    }
  }
  std::printf("%d/%d bf16 convolutions within the fp32-summation bound (seed %u)\n",
              cases - failed, cases, seed);
  return failed ? 1 : 0;
}
