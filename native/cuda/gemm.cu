#include <stdexcept>

#include "gemm.cuh"

namespace resnode::cuda {

std::shared_ptr<ConvWeights> pack_gemm(Context& ctx, const float* weight, const float* bias,
                                       int64_t n_out, int64_t k) {
  return pack_conv2d(ctx, weight, bias, n_out, k, 1, 1, 1);
}

void gemm(Context& ctx, const ConvWeights& w, const float* x, int64_t m, bool relu, float* y,
          MathMode mode) {
  if (w.kh != 1 || w.kw != 1 || w.groups != 1) {
    throw std::invalid_argument("cuda gemm: weights were not packed by pack_gemm");
  }
  Conv2dShape s{};
  s.n = m;
  s.c_in = w.c_in_per_group;
  s.h = s.w = 1;
  s.c_out = w.c_out;
  s.kh = s.kw = s.groups = 1;
  s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1;
  s.out_h = s.out_w = 1;
  conv2d(ctx, s, w, x, nullptr, relu, y, mode);
}

}  // namespace resnode::cuda
