// Fully connected layer on the GPU: y[m, n] = sum_k x[m, k] * W[n, k] + bias[n]
// (W is [n_out, k], ONNX Gemm with transB=1), optional ReLU. Same semantics as
// resnode::cpu::gemm. It is a 1x1 convolution over a 1x1 image with batch m,
// so it reuses the conv2d GEMM kernels (direct path, fused epilogue).
#pragma once
#include <memory>

#include "conv2d.cuh"

namespace resnode::cuda {

// weight: host [n_out, k]; bias: host [n_out] or nullptr. Synchronous upload.
std::shared_ptr<ConvWeights> pack_gemm(Context& ctx, const float* weight, const float* bias,
                                       int64_t n_out, int64_t k);

// Enqueues y[m, n_out] = x[m, k]·Wᵀ + b (device pointers) on ctx's stream.
void gemm(Context& ctx, const ConvWeights& w, const float* x, int64_t m, bool relu, float* y,
          MathMode mode);

}  // namespace resnode::cuda
