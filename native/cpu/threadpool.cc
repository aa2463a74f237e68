#include "threadpool.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "arch.h"
#include "common.h"
#include "ops.h"

#if RN_ARCH_X86_64
#include <immintrin.h>
#endif

namespace resnode::cpu {
namespace {

constexpr int kMaxWorkers = 255;
// How long a worker with no job spins before it sleeps. Long enough to bridge the gaps inside a
// run and between a stream's back-to-back runs: at 300 us the worker slept in them, and on this
// project's VM a worker woken from sleep made ResNet-18 int8 runs take 12.7 ms in `resnode bench`'s
// turns against 8.0 ms with 3 ms (ORT's pool spins too). A worker never spins while every core
// already runs a task thread (wait_for_wake), so concurrent runs do not pay for it.
constexpr auto kSpin = std::chrono::microseconds(3000);

inline void cpu_relax() {
#if RN_ARCH_X86_64
  _mm_pause();
#elif RN_ARCH_ARM64
  __asm__ __volatile__("yield");
#else
  std::this_thread::yield();
#endif
}

// One published parallel_for. A slot is claimed by its caller for the length
// of the call; workers join it through `join` (gen << 32 | closed bit | count).
struct Job {
  std::atomic<bool> claimed{false};
  std::atomic<uint64_t> join{0};
  std::atomic<size_t> next{0};
  std::atomic<uint32_t> done{0};
  std::atomic<uint32_t> allowed{0};  // workers that may join besides the caller
  TaskFn fn = nullptr;
  void* ctx = nullptr;
  std::atomic<size_t> n{0};
  std::mutex err_mu;
  std::exception_ptr error;
};

// Set while this thread runs a task: a parallel_for from inside a task runs
// serially (its caller's job already has the threads).
thread_local int t_in_task = 0;

class Pool {
 public:
  static Pool& instance() {
    // Never destroyed: workers may still be asleep at process exit, and the
    // addon is linked with -z nodelete, so the pool lives as long as the process.
    static Pool* pool = new Pool();
    return *pool;
  }

  void run(size_t n, int threads, TaskFn fn, void* ctx) {
    if (n == 0) return;
    const int want = int(std::min<int64_t>(std::max(threads, 1), int64_t(n)));
    Job* job = want > 1 && t_in_task == 0 ? claim_slot() : nullptr;
    if (!job) {
      // Single thread, a nested call, or every slot taken: run everything here.
      for (size_t i = 0; i < n; ++i) fn(ctx, i);
      return;
    }
    struct Release {
      Job& j;
      ~Release() { j.claimed.store(false, std::memory_order_release); }
    } release{*job};
    ensure_workers(want - 1);
    // Publish the job: its fields are written before `join` opens it (release),
    // and workers read them only after a successful join (acquire).
    job->fn = fn;
    job->ctx = ctx;
    job->n.store(n, std::memory_order_relaxed);
    job->allowed.store(uint32_t(want - 1), std::memory_order_relaxed);
    job->next.store(0, std::memory_order_relaxed);
    job->done.store(0, std::memory_order_relaxed);
    job->error = nullptr;
    const uint64_t gen = (job->join.load(std::memory_order_relaxed) >> 32) + 1;
    const int running = active_.fetch_add(1, std::memory_order_relaxed) + 1;
    job->join.store(gen << 32, std::memory_order_release);
    // Wake the workers only if this job has room for one: while concurrent callers already run
    // as many threads as it asked for, a woken worker could only scan and wait again.
    if (running < want) wake();
    work(*job, false);
    // No wake here for other callers' jobs: with as many concurrent runs as cores, a worker woken
    // at every layer's end joined another run's layer for a moment and then competed with it for
    // the cores (2 runs in flight: 0.85-0.89x the serial loop's images/s; without this wake
    // 1.05-1.16x). A sleeping worker joins again at the next publish that has room.
    active_.fetch_sub(1, std::memory_order_relaxed);
    // Close the job: no worker may join after this, then wait for joiners.
    uint64_t s = job->join.load(std::memory_order_acquire);
    while (!job->join.compare_exchange_weak(s, s | kClosed, std::memory_order_acq_rel)) {
    }
    const uint32_t joined = uint32_t(s & kCountMask);
    // Joined workers are finishing their last task: spin briefly, then yield
    // (on an oversubscribed machine the worker may be waiting for this core).
    for (int spins = 0; job->done.load(std::memory_order_acquire) != joined; ++spins) {
      if (spins < 4096) cpu_relax();
      else std::this_thread::yield();
    }
    if (job->error) std::rethrow_exception(job->error);
  }

  int workers() {
    std::lock_guard<std::mutex> lk(mu_);
    return int(threads_.size());
  }

 private:
  // Concurrent parallel_for callers (one per libuv thread running a model, in
  // practice); a caller that finds all taken runs its tasks alone.
  static constexpr int kMaxJobs = 32;
  static constexpr uint64_t kClosed = 1ull << 31;
  static constexpr uint64_t kCountMask = kClosed - 1;

  void wake() {
    wake_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lk(mu_);
      cv_.notify_all();
    }
  }

  Job* claim_slot() {
    for (Job& j : jobs_) {
      bool free = false;
      if (!j.claimed.load(std::memory_order_relaxed) &&
          j.claimed.compare_exchange_strong(free, true, std::memory_order_acquire))
        return &j;
    }
    return nullptr;
  }

  // Runs the job's tasks until none are left. A worker also leaves when more
  // threads run tasks than the job asked for (another caller has arrived and
  // runs its own job on its own thread): the cores go back to being shared.
  void work(Job& job, bool worker) {
    ++t_in_task;
    const int cap = int(job.allowed.load(std::memory_order_relaxed)) + 1;
    for (;;) {
      if (worker && active_.load(std::memory_order_relaxed) > cap) break;
      const size_t i = job.next.fetch_add(1, std::memory_order_relaxed);
      if (i >= job.n.load(std::memory_order_relaxed)) break;
      try {
        job.fn(job.ctx, i);
      } catch (...) {
        std::lock_guard<std::mutex> lk(job.err_mu);
        if (!job.error) job.error = std::current_exception();
      }
    }
    --t_in_task;
  }

  // Joins the open job with the fewest workers that still has tasks and room,
  // so that workers spread over concurrent jobs instead of piling onto one.
  // A worker joins only while fewer threads run tasks than the job asked for
  // (callers count too): two concurrent callers of 2 threads each already
  // fill 2 cores, and a third thread would only make each layer wait for
  // whichever thread lost its core.
  Job* join_any() {
    for (;;) {
      Job* best = nullptr;
      uint64_t best_word = 0;
      for (Job& j : jobs_) {
        const uint64_t s = j.join.load(std::memory_order_acquire);
        if ((s >> 32) == 0 || (s & kClosed)) continue;
        const uint64_t count = s & kCountMask;
        if (count >= j.allowed.load(std::memory_order_relaxed)) continue;
        if (j.next.load(std::memory_order_relaxed) >= j.n.load(std::memory_order_relaxed)) continue;
        if (!best || count < (best_word & kCountMask)) {
          best = &j;
          best_word = s;
        }
      }
      if (!best) return nullptr;
      if (!reserve_thread(int(best->allowed.load(std::memory_order_relaxed)) + 1)) return nullptr;
      uint64_t s = best_word;
      if (best->join.compare_exchange_strong(s, s + 1, std::memory_order_acq_rel)) return best;
      // Lost a race (another worker joined, or the caller closed): look again.
      active_.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  // Counts this thread among those running tasks if fewer than `cap` are.
  bool reserve_thread(int cap) {
    int a = active_.load(std::memory_order_relaxed);
    while (a < cap)
      if (active_.compare_exchange_weak(a, a + 1, std::memory_order_relaxed)) return true;
    return false;
  }

  void ensure_workers(int count) {
    count = std::min(count, kMaxWorkers);
    std::lock_guard<std::mutex> lk(mu_);
    while (int(threads_.size()) < count) {
      threads_.emplace_back([this] { worker_main(); });
      threads_.back().detach();
    }
  }

  void worker_main() {
    for (;;) {
      // Read the wake count before scanning, so a job published during the
      // scan is not slept through.
      const uint64_t seen = wake_.load(std::memory_order_acquire);
      if (Job* job = join_any()) {
        work(*job, true);
        active_.fetch_sub(1, std::memory_order_relaxed);
        job->done.fetch_add(1, std::memory_order_release);
        continue;
      }
      wait_for_wake(seen);
    }
  }

  // Spins briefly for the next job (a model's next layer follows within microseconds), then
  // sleeps. It spins only while some core has no task thread on it: when every core already runs
  // tasks (concurrent runs, each a caller), a spinning worker would only take a core from them.
  void wait_for_wake(uint64_t seen) {
    auto start = std::chrono::steady_clock::now();
    for (int spins = 0;; ++spins) {
      if (wake_.load(std::memory_order_acquire) != seen) return;
      if (active_.load(std::memory_order_relaxed) >= cores_) break;
      cpu_relax();
      if ((spins & 63) == 63 && std::chrono::steady_clock::now() - start > kSpin) break;
    }
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return wake_.load(std::memory_order_seq_cst) != seen; });
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }

  Job jobs_[kMaxJobs];
  std::mutex mu_;  // worker list + sleeping
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> wake_{0};  // bumped on every publish
  std::atomic<int> sleepers_{0};
  std::atomic<int> active_{0};  // callers and workers running tasks of published jobs
  const int cores_ = default_threads();
};

int count_cpus() {
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int c = CPU_COUNT(&set);
    if (c > 0) return c;
  }
#endif
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? int(hc) : 1;
}

std::atomic<int> g_threads{0};

}  // namespace

void parallel_for(size_t n, int threads, TaskFn fn, void* ctx) {
  Pool::instance().run(n, threads, fn, ctx);
}

int threads_for_work(double flops, int threads) {
  if (threads <= 0) threads = global_threads();
  // ~0.2 MFLOP per thread is roughly the cost of waking a worker.
  const double per_thread = 2e5;
  const int useful = int(std::max(1.0, flops / per_thread));
  return std::max(1, std::min(threads, useful));
}

int pool_worker_count() { return Pool::instance().workers(); }

int default_threads() {
  static const int n = count_cpus();
  return n;
}

int global_threads() {
  int t = g_threads.load(std::memory_order_relaxed);
  return t > 0 ? t : default_threads();
}

void set_global_threads(int n) {
  RN_CHECK(n >= 1);
  g_threads.store(n, std::memory_order_relaxed);
}

}  // namespace resnode::cpu
