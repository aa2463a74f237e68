// The float32 NHWC pooling drivers and their per-ISA kernel table (see pool_nhwc.h). The max and
// average pools walk their windows with for_pool_windows (pool_windows.h); the global average
// pool is the average kernel over all of an image's pixels, in parallel over (image, block of
// channels).
#include "pool_nhwc.h"

#include <algorithm>
#include <vector>

#include "../arch.h"
#include "../common.h"
#include "../threadpool.h"
#include "pool_windows.h"

namespace resnode::cpu {

const PoolNhwcKernels& pool_nhwc_kernels(Isa isa) {
  static const PoolNhwcKernels scalar{f32_maxpool__scalar, f32_avgpool__scalar, "f32_maxpool__scalar", "f32_avgpool__scalar"};
#if RN_ARCH_X86_64
  static const PoolNhwcKernels avx2{f32_maxpool__avx2, f32_avgpool__avx2, "f32_maxpool__avx2", "f32_avgpool__avx2"};
  static const PoolNhwcKernels avx512{f32_maxpool__avx512f, f32_avgpool__avx512f, "f32_maxpool__avx512f", "f32_avgpool__avx512f"};
  if (isa == Isa::avx512) return avx512;
  if (isa == Isa::avx2) return avx2;
#else
  (void)isa;
#endif
  return scalar;
}

namespace {

void check_pool(const Pool2dShape& s) {
  RN_CHECK(s.n > 0 && s.c > 0 && s.h > 0 && s.w > 0 && s.kh > 0 && s.kw > 0);
  RN_CHECK(s.stride_h > 0 && s.stride_w > 0 && s.dil_h > 0 && s.dil_w > 0);
  RN_CHECK(s.out_h > 0 && s.out_w > 0);
}

// The taps k < kernel of a window starting at `start` (taps every dil) that fall in [0, n).
int64_t taps_in(int64_t start, int64_t dil, int64_t kernel, int64_t n) {
  int64_t count = 0;
  for (int64_t k = 0; k < kernel; ++k) count += start + k * dil >= 0 && start + k * dil < n;
  return count;
}

}  // namespace

void max_pool2d_nhwc(const Pool2dShape& s, const PoolNhwcKernels& k, const float* x, float* y, int threads) {
  check_pool(s);
  for_pool_windows(s, x, y, threads, [&](const float* const* taps, size_t n, int64_t, int64_t, float* out) {
    k.maxpool(taps, n, size_t(s.c), out);
  });
}

void average_pool2d_nhwc(const Pool2dShape& s, bool count_include_pad, const PoolNhwcKernels& k, const float* x,
                         float* y, int threads) {
  check_pool(s);
  const int64_t hp = s.pad_top + s.h + s.pad_bottom, wp = s.pad_left + s.w + s.pad_right;
  // With count_include_pad the divisor counts the taps inside the padded extent; without, the
  // in-bounds ones (the taps gathered); a window with no tap to count gives 0, as average_pool2d.
  std::vector<int64_t> cols_padded(size_t(s.out_w)), rows_padded(size_t(s.out_h));
  for (int64_t ox = 0; ox < s.out_w; ++ox) cols_padded[size_t(ox)] = taps_in(ox * s.stride_w, s.dil_w, s.kw, wp);
  for (int64_t oy = 0; oy < s.out_h; ++oy) rows_padded[size_t(oy)] = taps_in(oy * s.stride_h, s.dil_h, s.kh, hp);
  for_pool_windows(s, x, y, threads, [&](const float* const* taps, size_t n, int64_t oy, int64_t ox, float* out) {
    const int64_t div = count_include_pad ? rows_padded[size_t(oy)] * cols_padded[size_t(ox)] : int64_t(n);
    k.avgpool(taps, n, size_t(s.c), div > 0 ? 1.0f / float(div) : 0.0f, out);
  });
}

void global_average_pool_nhwc(int64_t n, int64_t c, int64_t hw, const PoolNhwcKernels& k, const float* x, float* y,
                              int threads) {
  RN_CHECK(n > 0 && c > 0 && hw > 0);
  if (threads <= 0) threads = global_threads();
  // Blocks of 256 channels (a multiple of every kernel's vector group), so a batch-1 pool splits too.
  constexpr int64_t kBlock = 256;
  const int64_t blocks = (c + kBlock - 1) / kBlock;
  const size_t items = size_t(n * blocks);
  const int t = threads_for_work(double(n * c * hw), threads);
  const size_t tasks = std::min(items, size_t(t) * kTasksPerThread);
  const float scale = 1.0f / float(hw);
  parallel_for(tasks, t, [&](size_t task) {
    std::vector<const float*> pixels(static_cast<size_t>(hw));
    for (size_t i = task * items / tasks, i1 = (task + 1) * items / tasks; i < i1; ++i) {
      const int64_t b = int64_t(i) / blocks, c0 = (int64_t(i) % blocks) * kBlock;
      for (int64_t p = 0; p < hw; ++p) pixels[size_t(p)] = x + size_t((b * hw + p) * c + c0);
      k.avgpool(pixels.data(), size_t(hw), size_t(std::min(kBlock, c - c0)), scale, y + size_t(b * c + c0));
    }
  });
}

}  // namespace resnode::cpu
