#include <cuda_runtime.h>

#include <cmath>

#include "pool.cuh"
#include "tiling.cuh"

namespace resnode::cuda {
namespace {

PoolGeom geom(const Pool2dShape& s) {
  PoolGeom g{};
  g.n = static_cast<int32_t>(s.n);
  g.c = static_cast<int32_t>(s.c);
  g.h = static_cast<int32_t>(s.h);
  g.w = static_cast<int32_t>(s.w);
  g.kh = static_cast<int32_t>(s.kh);
  g.kw = static_cast<int32_t>(s.kw);
  g.sh = static_cast<int32_t>(s.stride_h);
  g.sw = static_cast<int32_t>(s.stride_w);
  g.dh = static_cast<int32_t>(s.dil_h);
  g.dw = static_cast<int32_t>(s.dil_w);
  g.pad_t = static_cast<int32_t>(s.pad_top);
  g.pad_l = static_cast<int32_t>(s.pad_left);
  g.pad_b = static_cast<int32_t>(s.pad_bottom);
  g.pad_r = static_cast<int32_t>(s.pad_right);
  g.oh = static_cast<int32_t>(s.out_h);
  g.ow = static_cast<int32_t>(s.out_w);
  return g;
}

// One thread per output element; consecutive threads take consecutive ow.
template <bool MAX>
__global__ void pool2d_kernel(const PoolGeom g, int count_include_pad, const float* __restrict__ x,
                              float* __restrict__ y, int64_t total) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int ow = static_cast<int>(i % g.ow);
    const int oh = static_cast<int>((i / g.ow) % g.oh);
    const int64_t nc = i / (static_cast<int64_t>(g.ow) * g.oh);
    const float* xp = x + nc * g.h * g.w;
    const int h0 = oh * g.sh - g.pad_t, w0 = ow * g.sw - g.pad_l;
    float acc = MAX ? -INFINITY : 0.f;
    for (int r = 0; r < g.kh; ++r) {
      const int ih = h0 + r * g.dh;
      if (ih < 0 || ih >= g.h) continue;
      for (int s = 0; s < g.kw; ++s) {
        const int iw = w0 + s * g.dw;
        if (iw < 0 || iw >= g.w) continue;
        const float v = __ldg(xp + ih * g.w + iw);
        acc = MAX ? fmaxf(acc, v) : acc + v;
      }
    }
    if (!MAX) {
      const int d = avg_pool_divisor(g, oh, ow, count_include_pad != 0);
      acc = d > 0 ? acc / static_cast<float>(d) : 0.f;
    }
    y[i] = acc;
  }
}

// One warp per (n, c) row: strided sum, then a shuffle reduction.
__global__ void global_avg_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t rows,
                                  int64_t hw) {
  const int lane = threadIdx.x & 31;
  const int64_t row = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) >> 5;
  if (row >= rows) return;
  const float* xp = x + row * hw;
  float s = 0.f;
  for (int64_t i = lane; i < hw; i += 32) s += __ldg(xp + i);
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  if (lane == 0) y[row] = s / static_cast<float>(hw);
}

int grid_for(int64_t total, int threads) {
  const int64_t b = (total + threads - 1) / threads;
  return static_cast<int>(b < 65535 * 16 ? b : 65535 * 16);
}

}  // namespace

void max_pool2d(Context& ctx, const Pool2dShape& s, const float* x, float* y) {
  const int64_t total = s.n * s.c * s.out_h * s.out_w;
  if (total == 0) return;
  ctx.activate();
  pool2d_kernel<true><<<grid_for(total, 256), 256, 0, ctx.stream()>>>(geom(s), 0, x, y, total);
  Context::check_launch("max_pool2d kernel launch");
}

void average_pool2d(Context& ctx, const Pool2dShape& s, bool count_include_pad, const float* x,
                    float* y) {
  const int64_t total = s.n * s.c * s.out_h * s.out_w;
  if (total == 0) return;
  ctx.activate();
  pool2d_kernel<false><<<grid_for(total, 256), 256, 0, ctx.stream()>>>(
      geom(s), count_include_pad ? 1 : 0, x, y, total);
  Context::check_launch("average_pool2d kernel launch");
}

void global_average_pool(Context& ctx, int64_t n, int64_t c, int64_t hw, const float* x, float* y) {
  const int64_t rows = n * c;
  if (rows == 0) return;
  ctx.activate();
  const int64_t blocks = (rows * 32 + 255) / 256;
  global_avg_kernel<<<static_cast<unsigned>(blocks), 256, 0, ctx.stream()>>>(x, y, rows, hw);
  Context::check_launch("global_average_pool kernel launch");
}

}  // namespace resnode::cuda
