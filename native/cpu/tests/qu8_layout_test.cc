// Property harness for the int8 conv step's layout kernels (native/cpu/qgemm/qu8_layout.h; not
// built by npm: test/int8-qu8-layout.test.ts builds and runs it).
//   qu8_layout_test [cases=300] [seed]
// Random channel counts (1-70: partial blocks of 16), image sizes (1-300 pixels) and pixel
// ranges [i0, i1) (partial blocks of 16, ranges that start mid-image), random scales and zero
// points with edges 0/255 a ReLU's raised qmin and int8-shifted ranges, and values on rounding ties (k + 0.5 steps),
// past both clamps and NaN: every byte of each kernel's u8 NHWC output equals an independent
// loop (double division, round half to even by hand), every float of its NCHW output equals
// (q - z) * scale, and bytes and floats outside [i0, i1) stay untouched.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "../isa.h"
#include "../qgemm/qu8_layout.h"
#include "check.h"

using namespace resnode::cpu;
using resnode::cpu::testing::check;
using resnode::cpu::testing::check_failures;

namespace {

// QuantizeLinear on one float by hand: the float32 quotient (as ONNX Runtime divides), then ties
// to even without the FPU's rounding mode.
uint8_t reference_quantize(float x, const Qu8Quant& q) {
  if (std::isnan(x)) return uint8_t(q.qmin);
  const float d = x / q.scale;
  double r = std::floor(double(d));
  const double frac = double(d) - r;
  if (frac > 0.5 || (frac == 0.5 && std::fmod(r, 2.0) != 0)) r += 1;
  r += q.zero_point;
  return uint8_t(r < q.qmin ? q.qmin : r > q.qmax ? q.qmax : r);
}

}  // namespace

int main(int argc, char** argv) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 300;
  std::mt19937 rng(argc > 2 ? unsigned(std::atoi(argv[2])) : 1u);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<std::pair<const char*, Qu8LayoutConfig>> configs = {{"scalar", qu8_layout_config(Isa::scalar)}};
  if (cpu_features().avx512) configs.push_back({"avx512f", qu8_layout_config(Isa::avx512)});
  long bad_q = 0, bad_dq = 0, touched = 0, checked = 0;
  for (int t = 0; t < cases; ++t) {
    const int64_t c = uniform(1, 70), hw = uniform(1, 300);
    const int64_t i0 = uniform(0, int(hw) - 1), i1 = uniform(int(i0) + 1, int(hw));
    Qu8Quant q;
    q.scale = std::ldexp(float(uniform(1, 1000)) / 1000.f, -uniform(0, 8));
    // u8 ranges, a fused ReLU's raised qmin, and int8 tensors shifted into the u8 domain (z 128).
    const int edge = uniform(0, 4);
    q.zero_point = edge == 0 ? 0 : edge == 1 ? 255 : edge == 2 ? 128 : uniform(0, 255);
    q.qmin = uniform(0, 1) ? q.zero_point : 0;
    q.qmax = 255;
    std::vector<float> x(size_t(c * hw));
    for (float& v : x) {
      const int kind = uniform(0, 19);
      const float steps = float(uniform(-300, 300));
      v = kind == 0 ? NAN : kind < 6 ? (steps + 0.5f) * q.scale : steps * q.scale + float(uniform(-499, 499)) / 1000.f * q.scale;
    }
    for (const auto& [name, cfg] : configs) {
      std::vector<uint8_t> y(size_t(c * hw), 0xA5);
      cfg.quantize(x.data(), c, hw, i0, i1, q, y.data());
      std::vector<float> back(size_t(c * hw), -7.f);
      cfg.dequantize(y.data(), c, hw, i0, i1, q, back.data());
      for (int64_t i = 0; i < hw; ++i)
        for (int64_t ch = 0; ch < c; ++ch) {
          const uint8_t got = y[size_t(i * c + ch)];
          const float f = back[size_t(ch * hw + i)];
          if (i < i0 || i >= i1) {
            touched += got != 0xA5 || f != -7.f;
            continue;
          }
          ++checked;
          if (got != reference_quantize(x[size_t(ch * hw + i)], q)) {
            if (bad_q++ < 5) std::printf("%s quantize c=%ld hw=%ld px %ld ch %ld: %d want %d (x %.9g)\n", name, long(c), long(hw), long(i), long(ch), got, reference_quantize(x[size_t(ch * hw + i)], q), x[size_t(ch * hw + i)]);
          }
          bad_dq += f != float(int32_t(got) - q.zero_point) * q.scale;
        }
    }
  }
  std::printf("%d cases, %ld values checked on", cases, checked);
  for (const auto& [name, cfg] : configs) std::printf(" %s", name);
  std::printf("\n");
  check(bad_q == 0, "every quantized byte equals the reference");
  check(bad_dq == 0, "every dequantized float equals (q - z) * scale");
  check(touched == 0, "nothing outside [i0, i1) is written");
  return check_failures() ? 1 : 0;
}
