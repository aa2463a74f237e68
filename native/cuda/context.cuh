// Device discovery and the per-model execution context: one device, one stream,
// one memory arena. Every op takes a Context and enqueues on its stream, so the
// work of one model is ordered; separate contexts (models, worker threads) run
// concurrently. Host-side users serialize on Context::mutex() when they stage
// buffers and enqueue from more than one thread.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "arena.cuh"

typedef struct CUstream_st* cudaStream_t;

namespace resnode::cuda {

struct DeviceStatus {
  bool available = false;
  int device_count = 0;
  std::string reason;  // why not available (empty when available)
  std::string device;  // name of device 0, e.g. "NVIDIA H200 (sm_90, 139 GiB)"
  int sm_count = 0;
};

// Probed once per process (cudaGetDeviceCount; a failure means "not available").
const DeviceStatus& device_status();

class Context {
 public:
  // Throws CudaError when the device is missing or the stream cannot be created.
  static std::shared_ptr<Context> create(int device = 0);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int device() const { return device_; }
  int sm_count() const { return sm_count_; }
  cudaStream_t stream() const { return stream_; }
  Arena& arena() { return arena_; }
  std::mutex& mutex() { return mu_; }

  // Makes this context's device current on the calling thread.
  void activate() const;
  // Waits for everything queued on the stream; throws CudaError on a kernel fault.
  void synchronize();
  // Throws CudaError if the last launch failed (launch-configuration errors).
  static void check_launch(const char* what);

 private:
  explicit Context(int device);
  int device_;
  int sm_count_ = 0;
  cudaStream_t stream_ = nullptr;
  Arena arena_;
  std::mutex mu_;
};

// A scoped arena block (float count), released on destruction.
class DeviceScratch {
 public:
  DeviceScratch(Context& ctx, size_t count)
      : ctx_(ctx), p_(static_cast<float*>(ctx.arena().allocate(count * sizeof(float) + 16))) {}
  ~DeviceScratch() { ctx_.arena().release(p_); }
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
  float* get() const { return p_; }

 private:
  Context& ctx_;
  float* p_;
};

// Host<->device copies ordered on the context's stream.
void upload(Context& ctx, float* dst_dev, const float* src_host, size_t count);
void download(Context& ctx, float* dst_host, const float* src_dev, size_t count);
void copy_device(Context& ctx, float* dst_dev, const float* src_dev, size_t count);

}  // namespace resnode::cuda
