#include "work_split.h"

#include <algorithm>

#include "common.h"
#include "threadpool.h"

namespace resnode::cpu {

namespace {

// What an extra row chunk costs against an extra column chunk, per float: a
// column chunk re-reads A's packed panels (contiguous, from L2), a row chunk
// re-packs B (a gather over K input rows, and a write).
constexpr double kRepackWeight = 4.0;
// Over-decomposition may add this much traffic per flop of the layer (at a
// few flops' time per float moved, about 1-2% of the layer's time).
constexpr double kExtraFloatsPerFlop = 1.0 / 256;

// Traffic of a plan in floats: every column chunk re-reads all of A and every
// row chunk re-packs all of B (weighted by b_weight).
double traffic(const SplitPlan& p, double a_floats, double b_floats, double b_weight) {
  return double(p.nc) * a_floats + double(p.mc) * b_floats * b_weight;
}

// The least-traffic plan with at least `goal` tasks (fewer only where the
// panel limits allow no more; then *short_of_goal is set). Column chunks keep
// >= 4 panels and row chunks >= 2.
SplitPlan least_traffic(size_t problems, size_t m_panels, size_t n_panels, double a_floats,
                        double b_floats, double b_weight, size_t goal, bool* short_of_goal) {
  SplitPlan best;
  const size_t want = div_up(goal, problems);
  const size_t n_max = std::max<size_t>(1, n_panels / 4), m_max = std::max<size_t>(1, m_panels / 2);
  // Fewer tasks than the goal only as a last resort, and then the most tasks.
  size_t best_short = 0;
  double best_cost = -1;
  for (size_t mc = 1; mc <= std::min(want, m_max); ++mc) {
    const SplitPlan p{mc, std::min(div_up(want, mc), n_max)};
    const size_t tasks = problems * p.mc * p.nc;
    const size_t short_by = tasks < goal ? goal - tasks : 0;
    const double c = traffic(p, a_floats, b_floats, b_weight);
    if (best_cost < 0 || short_by < best_short || (short_by == best_short && c < best_cost)) {
      best_short = short_by;
      best_cost = c;
      best = p;
    }
  }
  *short_of_goal = best_short > 0;
  return best;
}

}  // namespace

SplitPlan plan_split(size_t problems, size_t m_panels, size_t n_panels, double a_floats,
                     double b_floats, double flops, int threads) {
  const size_t t = size_t(std::max(threads, 1));
  // A problem per task: already more tasks than threads, pulled dynamically.
  if (t == 1 || problems >= t * kTasksPerThread) return SplitPlan{};
  // The plan with a task per thread that moves the fewest floats, then, where
  // it costs little more traffic, more chunks than threads (pulled from the
  // pool's shared counter): a thread that loses its core to another process
  // then holds back one small chunk instead of its share of the layer. Four
  // tasks per thread everywhere, and B packed once and shared by row chunks,
  // were measured slower: 25-35% on ResNet-50's 14x14 and 7x7 shapes at
  // batch 1, where every extra row chunk re-packs a large B; the traffic
  // budget keeps those at (or near) a task per thread.
  bool short_of_goal = false;
  const SplitPlan base = problems >= t ? SplitPlan{} : least_traffic(problems, m_panels, n_panels, a_floats, b_floats, 1.0, t, &short_of_goal);
  const double budget = kExtraFloatsPerFlop * flops / double(problems);
  for (size_t per_thread = kTasksPerThread; per_thread > 1; per_thread /= 2) {
    const SplitPlan more = least_traffic(problems, m_panels, n_panels, a_floats, b_floats, kRepackWeight, t * per_thread, &short_of_goal);
    const double extra = traffic(more, a_floats, b_floats, kRepackWeight) - traffic(base, a_floats, b_floats, kRepackWeight);
    if (!short_of_goal && extra <= budget) return more;
  }
  return base;
}

}  // namespace resnode::cpu
