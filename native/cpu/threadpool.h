// A persistent thread pool shared by the process. parallel_for() runs tasks
// [0, n) on the caller's thread plus up to (threads - 1) pool workers, which
// pull task indices from the job's shared counter.
//
// Concurrency: several callers (libuv threads running models at the same
// time) each publish their own job; idle workers join any open job with room,
// spreading over them, so concurrent runs share the cores instead of all but
// one running single-threaded. A parallel_for from inside a task runs
// serially. Workers are never waited on unless they actually joined the job,
// so this cannot deadlock. Workers spin briefly after a job, then sleep on a
// condition variable.
#pragma once
#include <cstddef>
#include <cstdint>

namespace resnode::cpu {

using TaskFn = void (*)(void* ctx, size_t task);

// Runs fn(ctx, i) for every i in [0, n) using at most `threads` threads
// (the caller included). Returns when all tasks are done.
void parallel_for(size_t n, int threads, TaskFn fn, void* ctx);

template <typename F>
void parallel_for(size_t n, int threads, F&& f) {
  parallel_for(
      n, threads, [](void* ctx, size_t i) { (*static_cast<F*>(ctx))(i); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

// Tasks per thread that a layer aims to be cut into: more chunks than threads,
// pulled from the job's shared counter, so that a thread that loses its core
// (another process, or a concurrent run, takes it) holds back one chunk, not
// its fixed share of the layer.
constexpr size_t kTasksPerThread = 4;

// Threads to use for an op with `flops` work, capped by `threads`: tiny ops
// run on the caller's thread alone.
int threads_for_work(double flops, int threads);

// Caps the number of pool worker threads ever started (for tests).
int pool_worker_count();

}  // namespace resnode::cpu
