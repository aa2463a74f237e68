// A device memory arena: a caching allocator that reuses freed blocks instead
// of calling cudaMalloc/cudaFree per run. Each Context owns one, and every use
// of its blocks is ordered on the context's single stream, so a block released
// while kernels that read it are still queued can be handed out again at once:
// later work on the same stream runs after them.
#pragma once
#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>

namespace resnode::cuda {

class Arena {
 public:
  explicit Arena(int device);
  ~Arena();  // frees every block; the owner synchronizes its stream first
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Returns at least `bytes` of device memory, 256-byte aligned. Throws CudaError.
  void* allocate(size_t bytes);
  // Gives a block back for reuse (nullptr is ignored).
  void release(void* p);
  // cudaFree every cached (unused) block.
  void trim();

  size_t bytes_reserved() const;
  size_t bytes_in_use() const;
  // Blocks handed out by allocate() so far (reused or new): what a run that
  // "allocates nothing" leaves unchanged (cudaMemoryInfo().allocations).
  size_t allocations() const;

  // Size class a request is rounded to (256 B granules below 1 MiB, 1 MiB above).
  static size_t size_class(size_t bytes);

 private:
  int device_;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> free_;          // size -> block
  std::unordered_map<void*, size_t> in_use_;   // block -> size
  size_t reserved_ = 0, used_ = 0, allocations_ = 0;
};

}  // namespace resnode::cuda
