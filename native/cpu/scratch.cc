#include <atomic>

#include "common.h"

namespace resnode::cpu {

static std::atomic<size_t> g_scratch_bytes{0};

size_t scratch_bytes() { return g_scratch_bytes.load(std::memory_order_relaxed); }

float* thread_scratch(int slot, size_t count) {
  struct Slot {
    AlignedBuffer buf;
    size_t cap = 0;
    ~Slot() { g_scratch_bytes.fetch_sub(cap * sizeof(float), std::memory_order_relaxed); }
  };
  thread_local Slot slots[3];
  RN_CHECK(slot >= 0 && slot < 3);
  Slot& s = slots[slot];
  if (s.cap < count) {
    s.buf.reset();
    g_scratch_bytes.fetch_sub(s.cap * sizeof(float), std::memory_order_relaxed);
    s.cap = 0;
    s.buf = aligned_floats(count);
    s.cap = count;
    g_scratch_bytes.fetch_add(count * sizeof(float), std::memory_order_relaxed);
  }
  return s.buf.get();
}

}  // namespace resnode::cpu
