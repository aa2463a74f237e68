// conv2d on the GPU: implicit GEMM (no im2col buffer) with our own tiled GEMM.
//   MathMode::fp32  exact FP32 FMA (SIMT), matches the CPU within ~1e-6 relative
//   MathMode::tf32  tensor cores, mma.sync.m16n8k8 TF32 with FP32 accumulation
// 1x1 stride-1 unpadded convolutions read x directly as the GEMM's B matrix.
// The bias + residual + ReLU epilogue is applied where each tile is stored.
// All tensors are float32 NCHW device pointers, same semantics as
// resnode::cpu::conv2d in native/cpu/ops.h.
#pragma once
#include <cstdint>
#include <memory>

#include "context.cuh"

namespace resnode::cuda {

enum class MathMode { fp32 = 0, tf32 = 1 };
const char* math_mode_name(MathMode m);  // "fp32" | "tf32"

struct Conv2dShape {
  int64_t n, c_in, h, w;
  int64_t c_out, kh, kw, groups;
  int64_t stride_h, stride_w, dil_h, dil_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t out_h, out_w;
};

// Weights packed once (at model load) into device memory: A^T per group,
// [groups][Kpad][Mpad], zero-padded, plus the bias and the k table.
// Usable from any Context on the same device.
class ConvWeights {
 public:
  ~ConvWeights();
  int device;
  int64_t c_out, c_in_per_group, kh, kw, groups;
  int64_t M, K, Mpad, Kpad;
  float* a = nullptr;     // device [groups][Kpad][Mpad]
  float* bias = nullptr;  // device [c_out] or nullptr
  void* ktab = nullptr;   // device KEntry[K]
};

// weight: host [c_out, c_in_per_group, kh, kw]; bias: host [c_out] or nullptr.
// Synchronous (the upload completes before it returns). Throws CudaError.
std::shared_ptr<ConvWeights> pack_conv2d(Context& ctx, const float* weight, const float* bias,
                                         int64_t c_out, int64_t c_in_per_group, int64_t kh,
                                         int64_t kw, int64_t groups);

// Enqueues y = act(conv(x, W) + bias + residual) on ctx's stream. x, residual
// (nullable, y's shape) and y are device pointers. Returns without waiting.
void conv2d(Context& ctx, const Conv2dShape& s, const ConvWeights& w, const float* x,
            const float* residual, bool relu, float* y, MathMode mode);

// Which kernel conv2d would use (for tests and benchmarks): e.g. "tf32_128x128_1x1".
const char* conv2d_kernel_name(Context& ctx, const Conv2dShape& s, MathMode mode);

}  // namespace resnode::cuda
