// Checks plan_split (native/cpu/work_split.cc) on its own:
//   g++ -std=c++17 -O2 -Inative/cpu native/cpu/work_split.cc
//       native/cpu/tests/split_test.cc -o /tmp/split_test && /tmp/split_test
// Prints one line per check and exits non-zero on any failure.
#include <cstdio>
#include <random>

#include "tests/check.h"
#include "threadpool.h"
#include "work_split.h"

using namespace resnode::cpu;
using resnode::cpu::testing::check;

namespace {

// A 1x1 convolution of ResNet-50 at batch `n` (batch folded into one GEMM
// problem, as conv2d does): M output channels, K input channels, an hw plane;
// the AVX-512 tile is 14 x 32.
struct Shape {
  size_t m, k, hw, n;
  size_t m_panels() const { return (m + 13) / 14; }
  size_t n_panels() const { return n * ((hw + 31) / 32); }
  double a() const { return double(m) * double(k); }
  double b() const { return double(k) * double(n_panels() * 32); }
  double flops() const { return 2.0 * double(m * k * hw * n); }
  size_t tasks(int threads) const {
    const SplitPlan p = plan_split(1, m_panels(), n_panels(), a(), b(), flops(), threads);
    return p.mc * p.nc;
  }
};

// Every chunk of a split is a non-empty run of whole panels, and the chunks
// tile [0, total) in order.
bool chunks_tile(size_t c, size_t total) {
  size_t next = 0;
  for (size_t i = 0; i < c; ++i) {
    size_t lo, hi;
    chunk_range(i, c, total, 1, total, &lo, &hi);
    if (lo != next || hi <= lo) return false;
    next = hi;
  }
  return next == total;
}

}  // namespace

int main() {
  // Large planes: column chunks only re-read a small A, so the layer is cut
  // into kTasksPerThread chunks per thread.
  check(Shape{256, 64, 56 * 56, 1}.tasks(2) >= 2 * kTasksPerThread, "56x56 1x1 64->256, b1: >= 4 tasks per thread");
  check(Shape{128, 512, 28 * 28, 1}.tasks(2) > 2, "28x28 1x1 512->128, b1: more tasks than threads");
  check(Shape{256, 1024, 14 * 14, 8}.tasks(2) >= 2 * kTasksPerThread, "14x14 1x1 1024->256, b8: >= 4 tasks per thread");
  // Small planes where each extra row chunk re-packs a large B: a task per thread.
  check(Shape{256, 1024, 14 * 14, 1}.tasks(2) == 2, "14x14 1x1 1024->256, b1: a task per thread (B re-packs)");
  check(Shape{512, 2048, 7 * 7, 1}.tasks(2) <= 2 * 2, "7x7 1x1 2048->512, b1: at most 2 tasks per thread");
  check(Shape{256, 64, 56 * 56, 1}.tasks(1) == 1, "one thread: one task");
  // Random shapes: never fewer tasks than threads when the panels allow it,
  // never more than kTasksPerThread per thread (beyond what problems give),
  // chunk limits kept (columns >= 4 panels, rows >= 2), chunks tile the panels.
  std::mt19937 rng(7);
  bool enough = true, bounded = true, limits = true, tiles = true;
  for (int it = 0; it < 20000; ++it) {
    const size_t problems = 1 + rng() % 6, mp = 1 + rng() % 80, np = 1 + rng() % 200;
    const int threads = 1 + int(rng() % 8);
    const double a = double(1 + rng() % 4000000), b = double(1 + rng() % 4000000);
    const double flops = double(problems) * a * b / double(1 + rng() % 4096);
    const SplitPlan p = plan_split(problems, mp, np, a, b, flops, threads);
    const size_t tasks = problems * p.mc * p.nc, t = size_t(threads);
    const size_t most = problems * std::max<size_t>(1, mp / 2) * std::max<size_t>(1, np / 4);
    if (tasks < std::min(t, most)) {
      if (enough) std::printf("  e.g. problems %zu, %zu x %zu panels, %d threads: %zu tasks\n", problems, mp, np, threads, tasks);
      enough = false;
    }
    if (tasks > std::max(problems, t * kTasksPerThread) * 2) bounded = false;
    if (p.mc > std::max<size_t>(1, mp / 2) || p.nc > std::max<size_t>(1, np / 4)) limits = false;
    if (!chunks_tile(p.mc, mp) || !chunks_tile(p.nc, np)) tiles = false;
  }
  check(enough, "random shapes: at least a task per thread where the panels allow");
  check(bounded, "random shapes: at most ~kTasksPerThread tasks per thread");
  check(limits, "random shapes: column chunks >= 4 panels, row chunks >= 2");
  check(tiles, "random shapes: the chunks tile the panels");
  return resnode::cpu::testing::check_failures() ? 1 : 0;
}
