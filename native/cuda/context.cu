#include <cuda_runtime_api.h>

#include <dlfcn.h>

#include <cstdio>

#include "common.cuh"
#include "context.cuh"

namespace resnode::cuda {

const DeviceStatus& device_status() {
  static DeviceStatus status;
  static std::once_flag once;
  std::call_once(once, [] {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      cudaGetLastError();
      status.reason = std::string("no usable CUDA driver or device (cudaGetDeviceCount: ") +
                      cudaGetErrorString(e) + ")";
      void* libcuda = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
      if (!libcuda) libcuda = dlopen("libcuda.so.1", RTLD_LAZY);
      if (!libcuda) {
        status.reason = "no NVIDIA driver (libcuda.so.1 not found)";
        return;
      }
      dlclose(libcuda);
      if (e == cudaErrorInsufficientDriver) {
        status.reason += "; this build's CUDA runtime needs an NVIDIA driver that supports CUDA " +
                         std::to_string(CUDART_VERSION / 1000) + "." + std::to_string(CUDART_VERSION % 1000 / 10);
      }
      return;
    }
    status.device_count = n;
    if (n == 0) {
      status.reason = "no CUDA device found";
      return;
    }
    cudaDeviceProp prop{};
    e = cudaGetDeviceProperties(&prop, 0);
    if (e != cudaSuccess) {
      cudaGetLastError();
      status.reason = std::string("cudaGetDeviceProperties failed: ") + cudaGetErrorString(e);
      return;
    }
    if (prop.major < 8) {
      status.reason = std::string(prop.name) + " has compute capability " +
                      std::to_string(prop.major) + "." + std::to_string(prop.minor) +
                      "; resnode needs sm_80 or newer";
      return;
    }
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.0f GiB)", prop.name, prop.major, prop.minor,
                  static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    status.device = buf;
    status.sm_count = prop.multiProcessorCount;
    status.available = true;
  });
  return status;
}

std::shared_ptr<Context> Context::create(int device) {
  const DeviceStatus& st = device_status();
  if (!st.available) throw CudaError("CUDA is not available: " + st.reason);
  if (device < 0 || device >= st.device_count) {
    throw CudaError("CUDA device " + std::to_string(device) + " does not exist (" +
                    std::to_string(st.device_count) + " found)");
  }
  return std::shared_ptr<Context>(new Context(device));
}

Context::Context(int device) : device_(device), arena_(device) {
  RN_CUDA_CHECK(cudaSetDevice(device));
  RN_CUDA_CHECK(cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, device));
  RN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
}

Context::~Context() {
  cudaSetDevice(device_);
  if (stream_) {
    cudaStreamSynchronize(stream_);
    cudaStreamDestroy(stream_);
  }
  // arena_ frees its blocks in its destructor.
}

void Context::activate() const { RN_CUDA_CHECK(cudaSetDevice(device_)); }

void Context::synchronize() {
  activate();
  RN_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void Context::check_launch(const char* what) { check(static_cast<int>(cudaGetLastError()), what); }

void upload(Context& ctx, float* dst, const float* src, size_t count) {
  RN_CUDA_CHECK(cudaMemcpyAsync(dst, src, count * sizeof(float), cudaMemcpyHostToDevice, ctx.stream()));
}
void download(Context& ctx, float* dst, const float* src, size_t count) {
  RN_CUDA_CHECK(cudaMemcpyAsync(dst, src, count * sizeof(float), cudaMemcpyDeviceToHost, ctx.stream()));
  RN_CUDA_CHECK(cudaStreamSynchronize(ctx.stream()));
}
void copy_device(Context& ctx, float* dst, const float* src, size_t count) {
  RN_CUDA_CHECK(cudaMemcpyAsync(dst, src, count * sizeof(float), cudaMemcpyDeviceToDevice, ctx.stream()));
}

}  // namespace resnode::cuda
