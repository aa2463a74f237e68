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
constexpr auto kSpin = std::chrono::microseconds(300);

inline void cpu_relax() {
#if RN_ARCH_X86_64
  _mm_pause();
#elif RN_ARCH_ARM64
  __asm__ __volatile__("yield");
#else
  std::this_thread::yield();
#endif
}

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
    int want = std::min<int64_t>(std::max(threads, 1), int64_t(n));
    bool idle = false;
    if (want <= 1 || !busy_.compare_exchange_strong(idle, true, std::memory_order_acquire)) {
      // Single thread, or another caller owns the pool (another libuv thread,
      // or a nested parallel_for from inside a task): run everything here.
      for (size_t i = 0; i < n; ++i) fn(ctx, i);
      return;
    }
    struct Release {
      std::atomic<bool>& b;
      ~Release() { b.store(false, std::memory_order_release); }
    } release{busy_};
    ensure_workers(want - 1);
    // Publish the job. Workers join by CAS on join_ (gen, closed, count).
    fn_ = fn;
    ctx_ = ctx;
    n_ = n;
    next_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    error_ = nullptr;
    allowed_.store(want - 1, std::memory_order_relaxed);
    const uint64_t gen = (join_.load(std::memory_order_relaxed) >> 32) + 1;
    join_.store(gen << 32, std::memory_order_relaxed);
    gen_.store(gen, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lk(mu_);
      cv_.notify_all();
    }
    work();
    // Close the job: no worker may join after this, then wait for joiners.
    uint64_t s = join_.load(std::memory_order_acquire);
    while (!join_.compare_exchange_weak(s, s | kClosed, std::memory_order_acq_rel)) {
    }
    const uint32_t joined = uint32_t(s & kCountMask);
    // Joined workers are finishing their last task: spin briefly, then yield
    // (on an oversubscribed machine the worker may be waiting for this core).
    for (int spins = 0; done_.load(std::memory_order_acquire) != joined; ++spins) {
      if (spins < 4096) cpu_relax();
      else std::this_thread::yield();
    }
    if (error_) std::rethrow_exception(error_);
  }

  int workers() {
    std::lock_guard<std::mutex> lk(mu_);
    return int(threads_.size());
  }

 private:
  static constexpr uint64_t kClosed = 1ull << 31;
  static constexpr uint64_t kCountMask = kClosed - 1;

  void work() {
    for (;;) {
      const size_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= n_) break;
      try {
        fn_(ctx_, i);
      } catch (...) {
        std::lock_guard<std::mutex> lk(err_mu_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }

  void ensure_workers(int count) {
    count = std::min(count, kMaxWorkers);
    std::lock_guard<std::mutex> lk(mu_);
    while (int(threads_.size()) < count) {
      const int index = int(threads_.size());
      threads_.emplace_back([this, index] { worker_main(index); });
      threads_.back().detach();
    }
  }

  void worker_main(int index) {
    uint64_t seen = gen_.load(std::memory_order_acquire);
    for (;;) {
      uint64_t g = wait_for_job(seen);
      seen = g;
      if (index >= allowed_.load(std::memory_order_relaxed)) continue;  // allowed_ is written before gen_ is published
      // Join unless the caller already closed this generation.
      uint64_t s = join_.load(std::memory_order_acquire);
      bool joined = false;
      while ((s >> 32) == g && !(s & kClosed)) {
        if (join_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) {
          joined = true;
          break;
        }
      }
      if (!joined) continue;
      work();
      done_.fetch_add(1, std::memory_order_release);
    }
  }

  uint64_t wait_for_job(uint64_t seen) {
    auto start = std::chrono::steady_clock::now();
    for (int spins = 0;; ++spins) {
      uint64_t g = gen_.load(std::memory_order_acquire);
      if (g != seen) return g;
      cpu_relax();
      if ((spins & 63) == 63 && std::chrono::steady_clock::now() - start > kSpin) break;
    }
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return gen_.load(std::memory_order_seq_cst) != seen; });
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    return gen_.load(std::memory_order_acquire);
  }

  std::atomic<bool> busy_{false};  // held by the caller whose job is running
  std::mutex mu_;    // worker list + sleeping
  std::condition_variable cv_;
  std::mutex err_mu_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<uint64_t> join_{0};  // gen << 32 | closed bit | joined count
  std::atomic<int> sleepers_{0};
  std::atomic<size_t> next_{0};
  std::atomic<uint32_t> done_{0};
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  size_t n_ = 0;
  std::atomic<int> allowed_{0};
  std::exception_ptr error_;
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
