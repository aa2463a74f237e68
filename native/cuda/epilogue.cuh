// The fused epilogue: y = act(acc + bias + residual), applied where a GEMM
// tile is stored (never as a second pass over memory). Host and device share it
// so the host tests check the exact expression the kernels use.
#pragma once
#include "common.cuh"

namespace resnode::cuda {

// acc: the accumulated dot product; bias: bias[co] or 0; residual: the
// residual element at the same output index or 0. The order (acc + bias) +
// residual matches the CPU kernels' order.
RN_HD float apply_epilogue(float acc, float bias, float residual, bool relu) {
  float v = (acc + bias) + residual;
  return relu ? (v > 0.f ? v : 0.f) : v;
}

// Offset of output column n (image b = n / ohw, pixel p) at channel 0 of an NCHW
// output with c_out channels and ohw pixels per image; the GEMM's n folds
// (batch, pixel). n < 2^31 (checked by the launcher), so 32-bit division.
RN_HD int64_t conv_output_base(int32_t n, int32_t c_out, int32_t ohw) {
  const int32_t b = n / ohw;
  const int32_t p = n - b * ohw;
  return static_cast<int64_t>(b) * c_out * ohw + p;
}

// Output index of GEMM element (co, n).
RN_HD int64_t conv_output_index(int32_t co, int32_t n, int32_t c_out, int32_t ohw) {
  return conv_output_base(n, c_out, ohw) + static_cast<int64_t>(co) * ohw;
}

}  // namespace resnode::cuda
