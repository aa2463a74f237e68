// Shared helpers for the CUDA kernels: the host/device qualifier macro, error
// checking and small integer helpers. Safe to include from plain C++ (g++):
// without nvcc, RN_HD expands to nothing so the index math compiles on the host.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#if defined(__CUDACC__)
#define RN_HD __host__ __device__ __forceinline__
#else
#define RN_HD inline
#endif

namespace resnode::cuda {

// Thrown by every host function here when the CUDA runtime reports an error.
class CudaError : public std::runtime_error {
 public:
  explicit CudaError(const std::string& what) : std::runtime_error(what) {}
};

// Throws CudaError("<what>: <cudaGetErrorString(code)>") when code != cudaSuccess.
// Takes an int so this header does not need cuda_runtime_api.h.
void check(int code, const char* what);

RN_HD constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
RN_HD constexpr int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

}  // namespace resnode::cuda

#define RN_CUDA_CHECK(expr) ::resnode::cuda::check(static_cast<int>(expr), #expr)
