// How a layer's work is cut into tasks for the thread pool: row x column
// chunks of whole micro-tile panels, more chunks than threads where the extra
// traffic is small, so that the pool's shared counter balances the load when
// a thread loses its core.
#pragma once
#include <cstddef>

namespace resnode::cpu {

// How `threads` threads share `problems` independent GEMMs (images x groups,
// or one batched GEMM): each problem is cut into mc row chunks x nc column
// chunks.
struct SplitPlan {
  size_t mc = 1, nc = 1;
};

// a_floats / b_floats: the size of one problem's A and packed B; flops: the
// whole layer's. Every column chunk re-reads all of A and every row chunk
// re-packs all of B: the plan with a task per thread that moves the fewest
// floats, or one with up to kTasksPerThread tasks per thread where that adds
// little traffic for the layer's flops (work_split.cc).
SplitPlan plan_split(size_t problems, size_t m_panels, size_t n_panels, double a_floats,
                     double b_floats, double flops, int threads);

// Bounds of chunk i of c over `total` panels of size `panel` (clamped to `limit`).
inline void chunk_range(size_t i, size_t c, size_t total_panels, size_t panel, size_t limit,
                        size_t* lo, size_t* hi) {
  const size_t p0 = i * total_panels / c, p1 = (i + 1) * total_panels / c;
  *lo = p0 * panel;
  *hi = p1 * panel < limit ? p1 * panel : limit;
}

}  // namespace resnode::cpu
