// float16 ↔ float32 by bit manipulation, for CPUs without F16C and for tails.
#include <cstring>

#include "half_convert.h"

namespace resnode::cpu {
namespace {

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    // Zero or a subnormal half: frac·2^-24 is exact in float.
    const float f = float(frac) * (1.0f / 16777216.0f);
    std::memcpy(&bits, &f, 4);
    bits |= sign;
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (frac << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (frac << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000);
  const int exp = int((x >> 23) & 0xff);
  const uint32_t mant = x & 0x7fffff;
  if (exp == 0xff) return uint16_t(sign | 0x7c00 | (mant ? 0x200 : 0));
  const int e = exp - 127 + 15;
  if (e >= 31) return uint16_t(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10) return sign;
    const uint32_t m = mant | 0x800000;
    const int shift = 14 - e;
    const uint32_t half = 1u << (shift - 1), rest = m & ((1u << shift) - 1);
    uint32_t h = m >> shift;
    if (rest > half || (rest == half && (h & 1))) ++h;
    return uint16_t(sign | h);
  }
  uint32_t h = (uint32_t(e) << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;  // a carry into the exponent is still right
  return uint16_t(sign | h);
}

}  // namespace

void f16_f32_vcvt__scalar(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = half_to_float(x[i]);
}

void f32_f16_vcvt__scalar(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = float_to_half(x[i]);
}

namespace {

// F16C comes with every AVX2 CPU, so the AVX2 kernel serves the AVX-512 path too.
template <class From, class To>
void convert(const From* x, To* y, int64_t n, Isa isa, void (*simd)(const From*, To*, int64_t),
             void (*scalar)(const From*, To*, int64_t)) {
  (isa == Isa::avx2 || isa == Isa::avx512) && simd ? simd(x, y, n) : scalar(x, y, n);
}

}  // namespace

#if defined(__x86_64__) || defined(_M_X64)
void f16_to_f32(const uint16_t* x, float* y, int64_t n, Isa isa) { convert(x, y, n, isa, f16_f32_vcvt__avx2, f16_f32_vcvt__scalar); }
void f32_to_f16(const float* x, uint16_t* y, int64_t n, Isa isa) { convert(x, y, n, isa, f32_f16_vcvt__avx2, f32_f16_vcvt__scalar); }
#else
void f16_to_f32(const uint16_t* x, float* y, int64_t n, Isa isa) { convert<uint16_t, float>(x, y, n, isa, nullptr, f16_f32_vcvt__scalar); }
void f32_to_f16(const float* x, uint16_t* y, int64_t n, Isa isa) { convert<float, uint16_t>(x, y, n, isa, nullptr, f32_f16_vcvt__scalar); }
#endif

}  // namespace resnode::cpu
