// The templated bodies of f32_vunary__<isa> and f32_vbinary__<isa>: full
// vectors of T, then the tail through the scalar form of the same code.
#pragma once
#include "elementwise.h"
#include "vec.h"

namespace resnode::cpu::impl {

// fn is a template argument so that each function's loop has no branch in it.
template <class T, UnaryFn fn>
inline typename T::V unary_one(typename T::V x, typename T::V alpha, typename T::V beta) {
  const auto one = T::set1(1.f), zero = T::set1(0.f);
  switch (fn) {
    case UnaryFn::sigmoid: return T::div(one, T::add(one, vec::exp<T>(T::sub(zero, x))));
    case UnaryFn::silu: return T::div(x, T::add(one, vec::exp<T>(T::sub(zero, x))));
    case UnaryFn::hard_sigmoid: return T::min(one, T::max(zero, T::fmadd(alpha, x, beta)));
    case UnaryFn::hard_swish: return T::mul(x, T::min(one, T::max(zero, T::fmadd(alpha, x, beta))));
    case UnaryFn::clip: return T::min(beta, T::max(alpha, x));  // NaN passes through
    case UnaryFn::erf: return vec::erf<T>(x);
    // PyTorch's exact GELU, in the order its export computes it (Div, Erf, Add 1, Mul x, Mul beta):
    // the unfused steps' float32 operations, one pass.
    case UnaryFn::gelu: return T::mul(T::mul(x, T::add(vec::erf<T>(T::div(x, alpha)), one)), beta);
  }
  return x;
}

template <class T, UnaryFn fn>
void vunary_loop(float alpha, float beta, const float* x, float* y, int64_t n) {
  int64_t i = 0;
  const auto va = T::set1(alpha), vb = T::set1(beta);
  for (; i + T::kLanes <= n; i += T::kLanes) T::store(y + i, unary_one<T, fn>(T::load(x + i), va, vb));
  for (; i < n; ++i) y[i] = unary_one<vec::Scalar, fn>(x[i], alpha, beta);
}

template <class T>
void vunary(UnaryFn fn, float alpha, float beta, const float* x, float* y, int64_t n) {
  switch (fn) {
    case UnaryFn::sigmoid: return vunary_loop<T, UnaryFn::sigmoid>(alpha, beta, x, y, n);
    case UnaryFn::silu: return vunary_loop<T, UnaryFn::silu>(alpha, beta, x, y, n);
    case UnaryFn::hard_sigmoid: return vunary_loop<T, UnaryFn::hard_sigmoid>(alpha, beta, x, y, n);
    case UnaryFn::hard_swish: return vunary_loop<T, UnaryFn::hard_swish>(alpha, beta, x, y, n);
    case UnaryFn::clip: return vunary_loop<T, UnaryFn::clip>(alpha, beta, x, y, n);
    case UnaryFn::erf: return vunary_loop<T, UnaryFn::erf>(alpha, beta, x, y, n);
    case UnaryFn::gelu: return vunary_loop<T, UnaryFn::gelu>(alpha, beta, x, y, n);
  }
}

template <class T>
inline typename T::V binary_one(BinaryFn fn, bool relu, typename T::V p, typename T::V q) {
  typename T::V v;
  switch (fn) {
    case BinaryFn::add: v = T::add(p, q); break;
    case BinaryFn::sub: v = T::sub(p, q); break;
    case BinaryFn::mul: v = T::mul(p, q); break;
    default: v = T::div(p, q); break;
  }
  return relu ? T::max(v, T::set1(0.f)) : v;  // NaN → 0, as the TypeScript kernel does
}

template <class T>
void vbinary(BinaryFn fn, bool relu, const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  int64_t i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + T::kLanes <= n; i += T::kLanes) T::store(y + i, binary_one<T>(fn, relu, T::load(a + i), T::load(b + i)));
  } else if (sa == 1) {  // b broadcast along the row: the squeeze-excitation gate, a per-channel scale
    const auto q = T::set1(*b);
    for (; i + T::kLanes <= n; i += T::kLanes) T::store(y + i, binary_one<T>(fn, relu, T::load(a + i), q));
  } else if (sb == 1) {
    const auto p = T::set1(*a);
    for (; i + T::kLanes <= n; i += T::kLanes) T::store(y + i, binary_one<T>(fn, relu, p, T::load(b + i)));
  }
  for (; i < n; ++i) y[i] = binary_one<vec::Scalar>(fn, relu, a[i * sa], b[i * sb]);
}

}  // namespace resnode::cpu::impl

namespace resnode::cpu::impl {

// f32_qlinear_vadd__<isa>: the scalar kernel's arithmetic in T's lanes (T::fmadd fused), the
// tail through the scalar kernel itself, so every element gets the same bits.
template <class T>
void qlinear_vadd(const float* a, const float* b, int64_t n, const QLinearAdd& p, float* y) {
  using V = typename T::V;
  const V sa = T::set1(p.a_scale), sb = T::set1(p.b_scale), ra = T::set1(p.ratio_a), rb = T::set1(p.ratio_b);
  const V za = T::set1(float(p.a_zero_point + p.shift)), zb = T::set1(float(p.b_zero_point + p.shift));
  const V fixed = T::set1(p.fixed), shift = T::set1(float(p.shift)), zc = T::set1(float(p.zero_point));
  const V lo = T::set1(float(p.qmin)), hi = T::set1(float(p.qmax)), sc = T::set1(p.out_scale), zero = T::set1(0.f);
  int64_t i = 0;
  for (; i + T::kLanes <= n; i += T::kLanes) {
    const V qa = T::add(T::round(T::div(T::load(a + i), sa)), za);
    const V qb = T::add(T::round(T::div(T::load(b + i), sb)), zb);
    // + 0: no -0 (x86's max returns its second operand on equal zeros, the scalar clamp keeps the first).
    const V c = T::add(T::sub(T::round(T::fmadd(qa, ra, T::fmadd(qb, rb, fixed))), shift), zero);
    T::store(y + i, T::mul(T::sub(T::min(T::max(c, lo), hi), zc), sc));
  }
  f32_qlinear_vadd__scalar(a + i, b + i, n - i, p, y + i);
}

// f32_vquantize_dequantize__<isa>: QuantizeLinear -> DequantizeLinear in T's lanes, the scalar
// kernel's arithmetic (division, round half to even, clamp on the floats, (q - z) * scale); the
// clamp takes max(lo, q) so that a NaN passes through as the scalar kernel lets it.
template <class T>
void vquantize_dequantize(const float* x, int64_t n, const QuantizeDequantize& q, float* y) {
  using V = typename T::V;
  const V scale = T::set1(q.scale), zp = T::set1(float(q.zero_point));
  const V lo = T::set1(float(q.qmin)), hi = T::set1(float(q.qmax));
  int64_t i = 0;
  for (; i + T::kLanes <= n; i += T::kLanes) {
    const V v = T::add(T::round(T::div(T::load(x + i), scale)), zp);
    T::store(y + i, T::mul(T::sub(T::min(hi, T::max(lo, v)), zp), scale));
  }
  f32_vquantize_dequantize__scalar(x + i, n - i, q, y + i);
}

}  // namespace resnode::cpu::impl
