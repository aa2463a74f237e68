// Checks the thread pool on its own (it links nothing else):
//   g++ -std=c++17 -O2 -pthread -Inative/cpu native/cpu/threadpool.cc \
//       native/cpu/tests/threadpool_test.cc -o /tmp/threadpool_test
// Prints one line per check and exits non-zero on any failure.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/check.h"
#include "threadpool.h"

using namespace resnode::cpu;
using resnode::cpu::testing::check;

namespace {

// Every task runs exactly once, for task counts below, at and above the thread count.
void every_task_once() {
  bool ok = true;
  for (int threads : {1, 2, 3, 8})
    for (size_t n : {size_t(1), size_t(2), size_t(7), size_t(64), size_t(1000)}) {
      std::vector<std::atomic<int>> hits(n);
      parallel_for(n, threads, [&](size_t i) { hits[i].fetch_add(1); });
      for (auto& h : hits) ok &= h.load() == 1;
    }
  check(ok, "every task runs exactly once (threads 1-8, n 1-1000)");
}

void exception_reaches_caller() {
  bool thrown = false;
  try {
    parallel_for(16, 3, [&](size_t i) {
      if (i == 5) throw std::runtime_error("task 5");
    });
  } catch (const std::runtime_error&) {
    thrown = true;
  }
  std::atomic<int> after{0};
  parallel_for(16, 3, [&](size_t) { after.fetch_add(1); });
  check(thrown && after.load() == 16, "a task's exception reaches the caller; the pool works after it");
}

void nested_runs_serially() {
  std::vector<std::atomic<int>> hits(64);
  parallel_for(8, 2, [&](size_t i) { parallel_for(8, 2, [&](size_t j) { hits[i * 8 + j].fetch_add(1); }); });
  bool ok = true;
  for (auto& h : hits) ok &= h.load() == 1;
  check(ok, "a parallel_for inside a task completes (runs serially, no deadlock)");
}

// Two callers at once, each asking for 3 threads: both jobs get a pool worker
// (with one owner at a time, the second caller ran all its tasks alone), and
// more than 3 threads run tasks at once (callers included) only briefly, while
// a worker finishes the task it had when the second caller arrived: concurrent
// runs share the cores the callers asked for instead of oversubscribing them.
void concurrent_callers_share_workers() {
  int helped_both = 0, crowded_starts = 0;
  std::atomic<int> running{0};
  const int rounds = 5;
  for (int round = 0; round < rounds; ++round) {
    std::set<std::thread::id> seen[2];
    std::mutex mu;
    std::vector<std::thread> callers;
    for (int c = 0; c < 2; ++c)
      callers.emplace_back([&, c] {
        parallel_for(40, 3, [&](size_t) {
          const int now_running = running.fetch_add(1) + 1;
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          running.fetch_sub(1);
          std::lock_guard<std::mutex> lk(mu);
          crowded_starts += now_running > 3;
          seen[c].insert(std::this_thread::get_id());
        });
      });
    for (auto& t : callers) t.join();
    helped_both += seen[0].size() > 1 && seen[1].size() > 1;
  }
  std::printf("  both concurrent jobs helped by a worker in %d of %d rounds; %d of %d tasks started beside 3 others\n",
              helped_both, rounds, crowded_starts, rounds * 80);
  check(helped_both >= rounds - 1, "two concurrent callers both get pool workers");
  check(crowded_starts <= rounds * 80 / 20, "concurrent callers of 3 threads run more than 3 tasks at once only briefly (<= 5% of task starts)");
}

// Many callers hammering the pool (more than it has job slots): every sum right.
void stress_many_callers() {
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 40; ++c)
    callers.emplace_back([&, c] {
      for (int it = 0; it < 200; ++it) {
        const size_t n = size_t(1 + (it * 7 + c) % 50);
        std::atomic<size_t> sum{0};
        parallel_for(n, 1 + (it + c) % 4, [&](size_t i) { sum.fetch_add(i + 1); });
        if (sum.load() != n * (n + 1) / 2) wrong.fetch_add(1);
      }
    });
  for (auto& t : callers) t.join();
  check(wrong.load() == 0, "40 callers x 200 jobs (more callers than job slots): every job complete");
}

}  // namespace

int main() {
  every_task_once();
  exception_reaches_caller();
  nested_runs_serially();
  concurrent_callers_share_workers();
  stress_many_callers();
  std::printf("pool workers started: %d\n", pool_worker_count());
  return resnode::cpu::testing::check_failures() ? 1 : 0;
}
