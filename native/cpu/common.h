// Shared helpers for the CPU kernels: checks, aligned buffers, small math.
// Plain C++; nothing here knows about N-API.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

// RN_CHECK: cheap invariant checks that stay active in release builds. A failure
// is a bug in resnode (the N-API layer validates user input before it gets
// here), so it aborts with a message instead of corrupting memory.
#define RN_CHECK(cond)                                                              \
  do {                                                                              \
    if (__builtin_expect(!(cond), 0)) {                                             \
      std::fprintf(stderr, "resnode: invariant failed: %s (%s:%d)\n", #cond, __FILE__, \
                   __LINE__);                                                       \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

// RN_DCHECK: checks in hot loops, compiled only in debug builds.
#ifdef NDEBUG
#define RN_DCHECK(cond) ((void)0)
#else
#define RN_DCHECK(cond) RN_CHECK(cond)
#endif

namespace resnode::cpu {

constexpr size_t kAlign = 64;

inline size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }
inline size_t div_up(size_t x, size_t m) { return (x + m - 1) / m; }

struct AlignedFree {
  void operator()(float* p) const noexcept { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<float[], AlignedFree>;

// 64-byte aligned float buffer; throws std::bad_alloc on failure.
inline AlignedBuffer aligned_floats(size_t count) {
  size_t bytes = round_up(count * sizeof(float) + kAlign, kAlign);
  void* p = std::aligned_alloc(kAlign, bytes);
  if (!p) throw std::bad_alloc();
  return AlignedBuffer(static_cast<float*>(p));
}

// Per-thread scratch that grows and is reused across calls (slot 0: GEMM B
// panels, 1: the FC's packed activations, 2: fp32 rows of bf16 B panels). Valid until the next call on the same thread with the
// same slot.
float* thread_scratch(int slot, size_t count);
// Bytes of thread_scratch held by all threads now (for the addon's stats()).
size_t scratch_bytes();

}  // namespace resnode::cpu
