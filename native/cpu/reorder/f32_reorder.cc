// The threaded NCHW <-> NHWC reorder over the transpose kernels (f32_transpose.h).
#include <algorithm>

#include "../arch.h"
#include "../threadpool.h"
#include "f32_transpose.h"

namespace resnode::cpu {

f32_transpose_fn f32_transpose_kernel(Isa isa) {
#if RN_ARCH_X86_64
  if (isa == Isa::avx512) return f32_transpose__avx512f;
#endif
  (void)isa;
  return f32_transpose__scalar;
}

void f32_reorder(f32_transpose_fn kernel, const float* x, int64_t n, int64_t c, int64_t hw, bool to_nhwc, float* y,
                 int threads) {
  const size_t rows = size_t(to_nhwc ? c : hw), cols = size_t(to_nhwc ? hw : c);
  // Chunks of 64 columns: each task reads (and writes) a rows x 64 strip, a few KB per row block.
  constexpr size_t kCols = 64;
  const size_t chunks = (cols + kCols - 1) / kCols, image = rows * cols;
  parallel_for(size_t(n) * chunks, threads_for_work(double(n) * double(image), threads), [&](size_t task) {
    const size_t b = task / chunks, c0 = task % chunks * kCols;
    kernel(x + b * image, rows, cols, c0, std::min(cols, c0 + kCols), y + b * image);
  });
}

}  // namespace resnode::cpu
