// Dispatch and threading for the unary and binary steps: the kernel is the
// one of the ISA fixed when the step was parsed.
#include <algorithm>

#include "../common.h"
#include "../threadpool.h"
#include "elementwise.h"

namespace resnode::cpu {

namespace {

// The kernel of an ISA from its three forms (the scalar one everywhere else).
template <class K>
K for_isa(Isa isa, [[maybe_unused]] K avx512, [[maybe_unused]] K avx2, K scalar) {
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == Isa::avx512) return avx512;
  if (isa == Isa::avx2) return avx2;
#endif
  (void)isa;
  return scalar;
}

}  // namespace

#if defined(__x86_64__) || defined(_M_X64)
UnaryKernel unary_kernel(Isa isa) { return for_isa<UnaryKernel>(isa, f32_vunary__avx512f, f32_vunary__avx2, f32_vunary__scalar); }
BinaryRowKernel binary_kernel(Isa isa) { return for_isa<BinaryRowKernel>(isa, f32_vbinary__avx512f, f32_vbinary__avx2, f32_vbinary__scalar); }
QLinearAddKernel qlinear_add_kernel(Isa isa) { return for_isa<QLinearAddKernel>(isa, f32_qlinear_vadd__avx512f, f32_qlinear_vadd__avx2, f32_qlinear_vadd__scalar); }
Qu8QLinearAddKernel qu8_qlinear_add_kernel(Isa isa) { return isa == Isa::avx512 ? qu8_qlinear_vadd__avx512f : qu8_qlinear_vadd__scalar; }
QuantizeDequantizeKernel quantize_dequantize_kernel(Isa isa) { return for_isa<QuantizeDequantizeKernel>(isa, f32_vquantize_dequantize__avx512f, f32_vquantize_dequantize__avx2, f32_vquantize_dequantize__scalar); }
#else
UnaryKernel unary_kernel(Isa isa) { return for_isa<UnaryKernel>(isa, nullptr, nullptr, f32_vunary__scalar); }
BinaryRowKernel binary_kernel(Isa isa) { return for_isa<BinaryRowKernel>(isa, nullptr, nullptr, f32_vbinary__scalar); }
QLinearAddKernel qlinear_add_kernel(Isa isa) { return for_isa<QLinearAddKernel>(isa, nullptr, nullptr, f32_qlinear_vadd__scalar); }
QuantizeDequantizeKernel quantize_dequantize_kernel(Isa isa) { return for_isa<QuantizeDequantizeKernel>(isa, nullptr, nullptr, f32_vquantize_dequantize__scalar); }
Qu8QLinearAddKernel qu8_qlinear_add_kernel(Isa) { return qu8_qlinear_vadd__scalar; }
#endif

const char* unary_kernel_name(Isa isa) {
  return isa == Isa::avx512 ? "f32_vunary__avx512f" : isa == Isa::avx2 ? "f32_vunary__avx2" : "f32_vunary__scalar";
}

const char* binary_kernel_name(Isa isa) {
  return isa == Isa::avx512 ? "f32_vbinary__avx512f" : isa == Isa::avx2 ? "f32_vbinary__avx2" : "f32_vbinary__scalar";
}

void unary(UnaryKernel k, UnaryFn fn, float alpha, float beta, const float* x, float* y,
           int64_t count, int threads) {
  RN_CHECK(k && x && y && count >= 0);
  if (threads <= 0) threads = global_threads();
  // Cheap per element: split only large arrays (16K floats per task at least).
  const size_t n = size_t(count);
  const size_t tasks = std::max<size_t>(1, std::min<size_t>(size_t(threads), n >> 14));
  parallel_for(tasks, threads, [&](size_t t) {
    const size_t i0 = t * n / tasks, i1 = (t + 1) * n / tasks;
    k(fn, alpha, beta, x + i0, y + i0, int64_t(i1 - i0));
  });
}

void binary(BinaryRowKernel k, BinaryFn fn, bool relu, const float* a, const float* b, float* y,
            int rank, const int64_t* dims, const int64_t* as, const int64_t* bs, int threads) {
  RN_CHECK(k && a && b && y && rank >= 1);
  if (threads <= 0) threads = global_threads();
  const int64_t inner = dims[rank - 1], sa = as[rank - 1], sb = bs[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d + 1 < rank; ++d) rows *= dims[d];
  const bool unit = (sa == 0 || sa == 1) && (sb == 0 || sb == 1);
  const size_t tasks = std::max<size_t>(1, std::min<size_t>(size_t(threads), size_t(rows * inner) >> 14));
  parallel_for(std::min<size_t>(tasks, size_t(rows)), threads, [&](size_t t) {
    const size_t nt = std::min<size_t>(tasks, size_t(rows));
    const int64_t r0 = int64_t(t * size_t(rows) / nt), r1 = int64_t((t + 1) * size_t(rows) / nt);
    for (int64_t r = r0; r < r1; ++r) {
      int64_t ia = 0, ib = 0, rest = r;
      for (int d = rank - 2; d >= 0; --d) {
        const int64_t i = rest % dims[d];
        rest /= dims[d];
        ia += i * as[d];
        ib += i * bs[d];
      }
      float* out = y + r * inner;
      if (unit) {
        k(fn, relu, a + ia, sa, b + ib, sb, out, inner);
      } else {  // a strided operand (not produced by the planner's merged broadcasts, but legal)
        for (int64_t i = 0; i < inner; ++i) f32_vbinary__scalar(fn, relu, a + ia + i * sa, 0, b + ib + i * sb, 0, out + i, 1);
      }
    }
  });
}

}  // namespace resnode::cpu
