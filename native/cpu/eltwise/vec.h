// Vector traits for the elementwise kernels: one kernel source (vunary.h,
// vbinary.h), instantiated per ISA by its own file (f32_vunary__avx512f.cc,
// __avx2.cc, the scalar one), each compiled with its ISA's flags.
// max(a, b) and min(a, b) return b when either is NaN, as the x86 instructions do.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace resnode::cpu::vec {

struct Scalar {
  using V = float;
  static constexpr int kLanes = 1;
  static V load(const float* p) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static V set1(float f) { return f; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V div(V a, V b) { return a / b; }
  static V fmadd(V a, V b, V c) { return a * b + c; }
  static V max(V a, V b) { return a > b ? a : b; }
  static V min(V a, V b) { return a < b ? a : b; }
  // round to nearest, then 2^n as a float (n within [-126, 127])
  static V round(V a) { return __builtin_nearbyintf(a); }
  static V exp2i(V n) {
    const int32_t bits = (int32_t(n) + 127) << 23;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
};

// The x86 traits differ only in width: W is 256 (AVX2) or 512 (AVX-512), and
// ROUND the instruction that rounds to the nearest integer.
#define RN_X86_VEC_TRAITS(Name, W, ROUND)                                                         \
  struct Name {                                                                                  \
    using V = __m##W;                                                                            \
    static constexpr int kLanes = W / 32;                                                        \
    static V load(const float* p) { return _mm##W##_loadu_ps(p); }                              \
    static void store(float* p, V v) { _mm##W##_storeu_ps(p, v); }                              \
    static V set1(float f) { return _mm##W##_set1_ps(f); }                                      \
    static V add(V a, V b) { return _mm##W##_add_ps(a, b); }                                    \
    static V sub(V a, V b) { return _mm##W##_sub_ps(a, b); }                                    \
    static V mul(V a, V b) { return _mm##W##_mul_ps(a, b); }                                    \
    static V div(V a, V b) { return _mm##W##_div_ps(a, b); }                                    \
    static V fmadd(V a, V b, V c) { return _mm##W##_fmadd_ps(a, b, c); }                        \
    static V max(V a, V b) { return _mm##W##_max_ps(a, b); }                                    \
    static V min(V a, V b) { return _mm##W##_min_ps(a, b); }                                    \
    static V round(V a) { return ROUND(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }      \
    static V exp2i(V n) {                                                                        \
      const auto e = _mm##W##_add_epi32(_mm##W##_cvtps_epi32(n), _mm##W##_set1_epi32(127));      \
      return _mm##W##_castsi##W##_ps(_mm##W##_slli_epi32(e, 23));                                \
    }                                                                                            \
  };

#if defined(__AVX2__)
RN_X86_VEC_TRAITS(Avx2, 256, _mm256_round_ps)
#endif
#if defined(__AVX512F__)
RN_X86_VEC_TRAITS(Avx512, 512, _mm512_roundscale_ps)
#endif
#undef RN_X86_VEC_TRAITS

// exp(x) to about 2 ulp: x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by its degree-6
// Taylor polynomial, times 2^n. x is clamped to [-87.3, 88.3], so that 2^n stays
// a normal float (the sigmoid and softmax built on it saturate well inside that).
template <class T>
inline typename T::V exp(typename T::V x) {
  x = T::min(T::set1(88.3f), T::max(T::set1(-87.3f), x));
  const auto n = T::round(T::mul(x, T::set1(1.44269504f)));
  auto r = T::fmadd(n, T::set1(-0.693145752f), x);  // ln2 split in two for an exact n·ln2
  r = T::fmadd(n, T::set1(-1.42860677e-6f), r);
  auto p = T::set1(1.f / 720);
  p = T::fmadd(p, r, T::set1(1.f / 120));
  p = T::fmadd(p, r, T::set1(1.f / 24));
  p = T::fmadd(p, r, T::set1(1.f / 6));
  p = T::fmadd(p, r, T::set1(0.5f));
  p = T::fmadd(p, r, T::set1(1.f));
  p = T::fmadd(p, r, T::set1(1.f));
  return T::mul(p, T::exp2i(n));
}

// erf(x): x·P(x²)/Q(x²) on x clamped to [-4, 4] (erf(±4) rounds to ±1 in float),
// the rational approximation Eigen and XLA use for float.
template <class T>
inline typename T::V erf(typename T::V x) {
  x = T::min(T::set1(4.f), T::max(T::set1(-4.f), x));
  const auto x2 = T::mul(x, x);
  auto p = T::set1(-2.72614225801306e-10f);
  p = T::fmadd(p, x2, T::set1(2.77068142495902e-08f));
  p = T::fmadd(p, x2, T::set1(-2.10102402082508e-06f));
  p = T::fmadd(p, x2, T::set1(-5.69250639462346e-05f));
  p = T::fmadd(p, x2, T::set1(-7.34990630326855e-04f));
  p = T::fmadd(p, x2, T::set1(-2.95459980854025e-03f));
  p = T::fmadd(p, x2, T::set1(-1.60960333262415e-02f));
  p = T::mul(p, x);
  auto q = T::set1(-1.45660718464996e-05f);
  q = T::fmadd(q, x2, T::set1(-2.13374055278905e-04f));
  q = T::fmadd(q, x2, T::set1(-1.68282697438203e-03f));
  q = T::fmadd(q, x2, T::set1(-7.37332916720468e-03f));
  q = T::fmadd(q, x2, T::set1(-1.42647390514189e-02f));
  return T::div(p, q);
}

}  // namespace resnode::cpu::vec
