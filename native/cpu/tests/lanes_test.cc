// Checks parallel_for_lanes (lanes.h) on the thread pool alone (test/lanes.test.ts builds it with
// native/cpu/threadpool.cc); one line per check, a non-zero exit on any failure.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "lanes.h"
#include "tests/check.h"

using namespace resnode::cpu;
using resnode::cpu::testing::check;

namespace {

// Every item runs exactly once, for item counts below, at and above the thread count.
void every_item_once() {
  bool ok = true;
  for (int threads : {1, 2, 3, 8})
    for (size_t n : {size_t(0), size_t(1), size_t(2), size_t(7), size_t(64), size_t(1000)}) {
      std::vector<std::atomic<int>> hits(n);
      parallel_for_lanes(n, threads, [&](size_t i) { hits[i].fetch_add(1); });
      for (auto& h : hits) ok &= h.load() == 1;
    }
  check(ok, "every item runs exactly once (threads 1-8, n 0-1000)");
}

// Each thread starts on its own lane and walks it front to back: the thread that runs a lane's
// first item runs that lane's next items, in order, before anything else.
void lanes_are_walked_in_order() {
  constexpr size_t n = 400;
  constexpr int threads = 2;
  std::mutex mu;
  std::vector<std::pair<std::thread::id, size_t>> log;
  parallel_for_lanes(n, threads, [&](size_t i) {
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    std::lock_guard<std::mutex> lock(mu);
    log.emplace_back(std::this_thread::get_id(), i);
  });
  bool ok = log.size() == n;
  for (size_t lane = 0; lane < size_t(threads) && ok; ++lane) {
    const size_t first = n * lane / threads;
    std::thread::id owner;
    bool found = false;
    for (auto& [id, i] : log)
      if (i == first) { owner = id; found = true; }
    ok &= found;
    // The owner's own items, in the order it ran them: first, first + 1, ... (a thief takes items
    // from the lane's back, so the owner's run may end early, never skip).
    size_t expect = first;
    for (auto& [id, i] : log) {
      if (id != owner || i < first || i >= n * (lane + 1) / threads) continue;
      ok &= i == expect;
      ++expect;
    }
  }
  check(ok, "each lane's owner runs its items front to back");
}

// A thread held up on its first item (as if it lost its core) does not hold back the rest of its
// lane: another thread takes those items from the lane's back.
void a_stalled_lane_is_stolen() {
  constexpr size_t n = 64;
  std::vector<std::thread::id> by(n);
  parallel_for_lanes(n, 2, [&](size_t i) {
    if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    by[i] = std::this_thread::get_id();
  });
  size_t stolen = 0;
  for (size_t i = 1; i < n / 2; ++i) stolen += by[i] != by[0];
  check(stolen > 0 && by[n / 2 - 1] != by[0], "a stalled lane's last items are run by another thread");
}

}  // namespace

int main() {
  every_item_once();
  lanes_are_walked_in_order();
  a_stalled_lane_is_stolen();
  return resnode::cpu::testing::check_failures() ? 1 : 0;
}
