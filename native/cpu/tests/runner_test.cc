// run_on_runner (native/cpu/runner.h): a serial stream reuses one runner thread, concurrent
// callers get one each, and what the function throws reaches the caller. Prints "ok: ..." lines,
// "FAIL: ..." on a failed check.
#include <atomic>
#include <cstdio>
#include <set>
#include <string>
#include <stdexcept>
#include <thread>
#include <vector>

#include "../runner.h"

using resnode::cpu::run_on_runner;
using resnode::cpu::runner_count;

static int failures = 0;
static void check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok) ++failures;
}

int main() {
  // A serial stream: every call on the same thread, not the caller's, and one runner started.
  std::set<std::thread::id> ids;
  for (int i = 0; i < 50; ++i) run_on_runner([&] { ids.insert(std::this_thread::get_id()); });
  check(ids.size() == 1 && *ids.begin() != std::this_thread::get_id() && runner_count() == 1,
        "a serial stream of 50 calls runs on one runner thread");

  // Four callers at once, each held until all four have started: four runners, all distinct.
  std::atomic<int> started{0};
  std::vector<std::thread::id> seen(4);
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&, c] {
      run_on_runner([&] {
        seen[size_t(c)] = std::this_thread::get_id();
        started.fetch_add(1);
        while (started.load() < 4) std::this_thread::yield();
      });
    });
  for (auto& t : callers) t.join();
  check(std::set<std::thread::id>(seen.begin(), seen.end()).size() == 4 && runner_count() == 4,
        "four concurrent callers run on four runners");

  // The most recently used runner is taken first.
  std::thread::id last, next;
  run_on_runner([&] { last = std::this_thread::get_id(); });
  run_on_runner([&] { next = std::this_thread::get_id(); });
  check(last == next && runner_count() == 4, "the most recently used runner is reused, no new one started");

  // An exception crosses back to the caller, and the runner stays usable.
  bool caught = false;
  try {
    run_on_runner([] { throw std::runtime_error("boom"); });
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "boom";
  }
  int after = 0;
  run_on_runner([&] { after = 7; });
  check(caught && after == 7, "what the function throws is rethrown to the caller; the runner runs on");
  return failures ? 1 : 0;
}
