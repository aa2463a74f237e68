// Process-wide native resource counters, read by stats() (native/napi/stats.cc).
// Plain atomics (no JS state), so they are safe with worker_threads; they count
// across every environment in the process.
#pragma once
#include <atomic>
#include <cstdint>

namespace resnode::napi {

struct Counters {
  std::atomic<int64_t> packed_handles{0};  // live, unreleased PackedConv/PackedGemm handles
  std::atomic<int64_t> packed_bytes{0};    // their packed bytes
  std::atomic<int64_t> async_in_flight{0}; // AsyncWorkers created but not yet completed
};

Counters& counters();

}  // namespace resnode::napi
