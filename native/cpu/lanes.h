// parallel_for_lanes: a layer's items cut into one contiguous lane per thread, so that layers cut
// the same way give each core the same rows, layer after layer (the rows it wrote last layer are
// still in its own L2), with work stealing so a thread that loses its core holds back nothing.
//
// Why: the pool's shared counter (threadpool.h) hands chunks to whichever thread asks first, so
// the thread that wrote a block of output rows in one conv reads them back in the next from the
// other core's L2 or from L3. ResNet-50 b1 on 2 threads, profile() in one process, variants
// alternating: one static range per thread took 0.70-0.77x the time of the shared counter on
// the 56x56 and 28x28 1x1 convs (64->256, 128->512, with their in-place residual), 0.95x the
// whole conv chain. Lanes keep that order and steal from each other's backs once their own is done.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common.h"
#include "threadpool.h"

namespace resnode::cpu {

namespace lanes_detail {

// One lane's remaining items [lo, hi), packed as hi << 32 | lo so the owner (from the front) and
// thieves (from the back) claim items with one compare-and-swap.
struct alignas(64) Lane {
  std::atomic<uint64_t> range{0};
};

inline bool take_front(Lane& l, size_t* item) {
  uint64_t r = l.range.load(std::memory_order_relaxed);
  for (;;) {
    const uint64_t lo = r & 0xffffffffu, hi = r >> 32;
    if (lo >= hi) return false;
    if (l.range.compare_exchange_weak(r, (hi << 32) | (lo + 1), std::memory_order_relaxed)) {
      *item = size_t(lo);
      return true;
    }
  }
}

inline bool take_back(Lane& l, size_t* item) {
  uint64_t r = l.range.load(std::memory_order_relaxed);
  for (;;) {
    const uint64_t lo = r & 0xffffffffu, hi = r >> 32;
    if (lo >= hi) return false;
    if (l.range.compare_exchange_weak(r, ((hi - 1) << 32) | lo, std::memory_order_relaxed)) {
      *item = size_t(hi - 1);
      return true;
    }
  }
}

}  // namespace lanes_detail

// Runs f(item) for every item in [0, n), each exactly once, on up to `threads` threads (the
// caller included). Lane j holds items [j*n/t, (j+1)*n/t) and runs them in order; a thread done
// with its lane takes the other lanes' last items. The caller takes lane 0 (the pool hands out
// task 0 first), so thread-to-rows stays the same from one call to the next.
template <typename F>
void parallel_for_lanes(size_t n, int threads, F&& f) {
  RN_CHECK(n < (uint64_t(1) << 32));
  const size_t t = std::min(size_t(std::max(threads, 1)), n);
  if (t <= 1) {
    for (size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::unique_ptr<lanes_detail::Lane[]> lanes(new lanes_detail::Lane[t]);
  for (size_t j = 0; j < t; ++j) lanes[j].range.store((uint64_t(n * (j + 1) / t) << 32) | uint64_t(n * j / t));
  parallel_for(t, int(t), [&](size_t lane) {
    size_t item;
    while (lanes_detail::take_front(lanes[lane], &item)) f(item);
    for (size_t k = 1; k < t; ++k)
      while (lanes_detail::take_back(lanes[(lane + k) % t], &item)) f(item);
  });
}

}  // namespace resnode::cpu
