// The int8 conv step's layout changes between the plan's float32 NCHW buffers (dequantized
// values) and the u8 NHWC rows the qu8s8 kernels read and write, one kernel per ISA and
// direction (one per file), chosen when the weights are packed (qu8_layout_config).
#pragma once
#include <cstdint>

#include "../ops.h"

namespace resnode::cpu {

// One activation's quantization in the u8 (shifted) domain: q = clamp(round_half_even(x / scale)
// + zero_point, qmin, qmax); x = (q - zero_point) * scale.
struct Qu8Quant {
  float scale = 1.f;
  int32_t zero_point = 0, qmin = 0, qmax = 255;
};

// Pixels [i0, i1) of one image: x [c][hw] float32 -> y [hw][c] u8 (QuantizeLinear's division,
// rounded half to even; a NaN lands on qmin).
using Qu8QuantizeNchwNhwc = void (*)(const float* x, int64_t c, int64_t hw, int64_t i0, int64_t i1,
                                     const Qu8Quant& q, uint8_t* y);
// Pixels [i0, i1) of one image: x [hw][c] u8 -> y [c][hw] float32, (q - zero_point) * scale.
using Qu8DequantizeNhwcNchw = void (*)(const uint8_t* x, int64_t c, int64_t hw, int64_t i0, int64_t i1,
                                       const Qu8Quant& q, float* y);

#define RN_QU8_LAYOUT_KERNELS(isa)                                                                        \
  void qu8_vquantize_nchw_nhwc__##isa(const float* x, int64_t c, int64_t hw, int64_t i0, int64_t i1,      \
                                      const Qu8Quant& q, uint8_t* y);                                     \
  void qu8_vdequantize_nhwc_nchw__##isa(const uint8_t* x, int64_t c, int64_t hw, int64_t i0, int64_t i1, \
                                        const Qu8Quant& q, float* y);
RN_QU8_LAYOUT_KERNELS(scalar)
RN_QU8_LAYOUT_KERNELS(avx512f)
#undef RN_QU8_LAYOUT_KERNELS

struct Qu8LayoutConfig {
  Qu8QuantizeNchwNhwc quantize;
  Qu8DequantizeNhwcNchw dequantize;
};
// The kernels for `isa` (AVX-512, else scalar: the conversions are a small share next to the GEMM).
Qu8LayoutConfig qu8_layout_config(Isa isa);

}  // namespace resnode::cpu
