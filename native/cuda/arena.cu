#include <cuda_runtime_api.h>

#include "arena.cuh"
#include "common.cuh"

namespace resnode::cuda {

void check(int code, const char* what) {
  if (code != cudaSuccess) {
    throw CudaError(std::string(what) + ": " + cudaGetErrorString(static_cast<cudaError_t>(code)));
  }
}

Arena::Arena(int device) : device_(device) {}

Arena::~Arena() {
  int prev = 0;
  cudaGetDevice(&prev);
  cudaSetDevice(device_);
  for (auto& kv : free_) cudaFree(kv.second);
  for (auto& kv : in_use_) cudaFree(kv.first);
  cudaSetDevice(prev);
}

size_t Arena::size_class(size_t bytes) {
  if (bytes == 0) bytes = 1;
  const size_t g = bytes < (size_t(1) << 20) ? 256 : (size_t(1) << 20);
  return (bytes + g - 1) / g * g;
}

void* Arena::allocate(size_t bytes) {
  const size_t sz = size_class(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  ++allocations_;
  // Reuse the smallest cached block that fits, if it is not much larger.
  auto it = free_.lower_bound(sz);
  if (it != free_.end() && it->first <= sz + sz / 4) {
    void* p = it->second;
    const size_t have = it->first;
    free_.erase(it);
    in_use_[p] = have;
    used_ += have;
    return p;
  }
  RN_CUDA_CHECK(cudaSetDevice(device_));
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, sz);
  if (e == cudaErrorMemoryAllocation) {  // drop the cache and retry once
    cudaGetLastError();
    for (auto& kv : free_) {
      cudaFree(kv.second);
      reserved_ -= kv.first;
    }
    free_.clear();
    e = cudaMalloc(&p, sz);
  }
  RN_CUDA_CHECK(e);
  in_use_[p] = sz;
  reserved_ += sz;
  used_ += sz;
  return p;
}

void Arena::release(void* p) {
  if (!p) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = in_use_.find(p);
  if (it == in_use_.end()) return;
  free_.emplace(it->second, p);
  used_ -= it->second;
  in_use_.erase(it);
}

void Arena::trim() {
  std::lock_guard<std::mutex> lock(mu_);
  cudaSetDevice(device_);
  for (auto& kv : free_) {
    cudaFree(kv.second);
    reserved_ -= kv.first;
  }
  free_.clear();
}

size_t Arena::bytes_reserved() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reserved_;
}
size_t Arena::bytes_in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_;
}

size_t Arena::allocations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return allocations_;
}

}  // namespace resnode::cuda
