// The elementwise kernels of the plan's unary and binary steps: declarations,
// and the one templated source each ISA's file instantiates.
#pragma once
#include <cstdint>

#include "../activation.h"
#include "../ops.h"

namespace resnode::cpu {

enum class BinaryFn { add = 0, sub, mul, div };

// UnaryFn and UnaryKernel: activation.h.
// y[i] = relu?(a[i·sa] ∘ b[i·sb]) for i in [0, n), with sa, sb each 0 or 1.
using BinaryRowKernel = void (*)(BinaryFn fn, bool relu, const float* a, int64_t sa, const float* b,
                                 int64_t sb, float* y, int64_t n);

void f32_vunary__scalar(UnaryFn, float, float, const float*, float*, int64_t);
void f32_vbinary__scalar(BinaryFn, bool, const float*, int64_t, const float*, int64_t, float*, int64_t);
#if defined(__x86_64__) || defined(_M_X64)
void f32_vunary__avx2(UnaryFn, float, float, const float*, float*, int64_t);
void f32_vunary__avx512f(UnaryFn, float, float, const float*, float*, int64_t);
void f32_vbinary__avx2(BinaryFn, bool, const float*, int64_t, const float*, int64_t, float*, int64_t);
void f32_vbinary__avx512f(BinaryFn, bool, const float*, int64_t, const float*, int64_t, float*, int64_t);
#endif

// ONNX Runtime's QLinearAdd on dequantized same-shape operands (QLinearAdd in ops.h: the
// coefficients src/quant/qlinear-add.ts forms); y may be a or b. Every ISA's kernel gives the
// same bits: division, fused multiply-adds and rounding are each exactly rounded.
using QLinearAddKernel = void (*)(const float* a, const float* b, int64_t n, const QLinearAdd& p, float* y);
void f32_qlinear_vadd__scalar(const float*, const float*, int64_t, const QLinearAdd&, float*);
#if defined(__x86_64__) || defined(_M_X64)
void f32_qlinear_vadd__avx2(const float*, const float*, int64_t, const QLinearAdd&, float*);
void f32_qlinear_vadd__avx512f(const float*, const float*, int64_t, const QLinearAdd&, float*);
#endif
QLinearAddKernel qlinear_add_kernel(Isa isa);
// The same QLinearAdd on the quantized bytes (u8 NHWC values of the plan, in the shifted u8
// domain: qa = a[i], the stored byte = clamped c + shift); bit for bit the float kernel's integers.
using Qu8QLinearAddKernel = void (*)(const uint8_t* a, const uint8_t* b, int64_t n, const QLinearAdd& p, uint8_t* y);
void qu8_qlinear_vadd__scalar(const uint8_t*, const uint8_t*, int64_t, const QLinearAdd&, uint8_t*);
#if defined(__x86_64__) || defined(_M_X64)
void qu8_qlinear_vadd__avx512f(const uint8_t*, const uint8_t*, int64_t, const QLinearAdd&, uint8_t*);
#endif
Qu8QLinearAddKernel qu8_qlinear_add_kernel(Isa isa);  // AVX-512, else scalar

// An ONNX QuantizeLinear -> DequantizeLinear pair per tensor, rounding half to even and dividing
// by the scale as ONNX Runtime does (y may be x); every ISA's kernel gives the same bits.
struct QuantizeDequantize {
  float scale = 1.f;
  int32_t zero_point = 0, qmin = 0, qmax = 255;
};
using QuantizeDequantizeKernel = void (*)(const float* x, int64_t n, const QuantizeDequantize& q, float* y);
void f32_vquantize_dequantize__scalar(const float*, int64_t, const QuantizeDequantize&, float*);
#if defined(__x86_64__) || defined(_M_X64)
void f32_vquantize_dequantize__avx2(const float*, int64_t, const QuantizeDequantize&, float*);
void f32_vquantize_dequantize__avx512f(const float*, int64_t, const QuantizeDequantize&, float*);
#endif
QuantizeDequantizeKernel quantize_dequantize_kernel(Isa isa);

// The kernels for an ISA (fixed when a plan step is parsed) and their names, for profiles.
UnaryKernel unary_kernel(Isa isa);
BinaryRowKernel binary_kernel(Isa isa);
const char* unary_kernel_name(Isa isa);   // "f32_vunary__avx512f", ...
const char* binary_kernel_name(Isa isa);  // "f32_vbinary__avx512f", ...

// Whole steps, split over the pool where the arrays are large.
void unary(UnaryKernel k, UnaryFn fn, float alpha, float beta, const float* x, float* y,
           int64_t count, int threads);
// y over the row-major index of dims[0, rank): a[Σ i_d·as[d]] ∘ b[Σ i_d·bs[d]].
void binary(BinaryRowKernel k, BinaryFn fn, bool relu, const float* a, const float* b, float* y,
            int rank, const int64_t* dims, const int64_t* as, const int64_t* bs, int threads);

}  // namespace resnode::cpu
