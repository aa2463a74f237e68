// Element-wise add with optional ReLU.
#include <algorithm>

#include "common.h"
#include "eltwise/elementwise.h"
#include "ops.h"
#include "threadpool.h"

namespace resnode::cpu {

void add(const float* a, const float* b, int64_t count, bool relu, float* y, int threads, Isa isa) {
  RN_CHECK(a && b && y && count >= 0);
  if (count == 0) return;
  if (threads <= 0) threads = global_threads();
  const BinaryRowKernel kernel = binary_kernel(isa);
  // Memory bound: only split large arrays (64K floats per task at least).
  const size_t n = size_t(count);
  const size_t tasks = std::max<size_t>(1, std::min<size_t>(size_t(threads), n >> 16));
  parallel_for(tasks, threads, [&](size_t t) {
    const size_t i0 = t * n / tasks, i1 = (t + 1) * n / tasks;
    kernel(BinaryFn::add, relu, a + i0, 1, b + i0, 1, y + i0, int64_t(i1 - i0));
  });
}

}  // namespace resnode::cpu
