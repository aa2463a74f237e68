// The pooling plan steps on quantized values (native/cpu/qpool/qu8_pool.h): 'qu8MaxPool' (a max
// pool on u8 NHWC bytes) and 'qGlobalAveragePool' (ONNX Runtime's QLinearGlobalAveragePool, from
// u8 NHWC bytes or float32 NCHW values on the input's grid, written as dequantized float32).
// createPlan parses each once; runPlan binds the buffers.
#pragma once
#include <napi.h>

#include <cstdint>

#include "../cpu/qpool/qu8_pool.h"

namespace resnode::napi {

struct Qu8MaxPoolBaton {
  static constexpr const char* kName = "qu8MaxPool";
  cpu::Pool2dShape s{};
  cpu::Qu8MaxPoolKernel kernel = nullptr;  // of the ISA active when the step was parsed
  const char* kernel_name = "";
  int threads = 0;
  int64_t nx = 0, ny = 0;  // floats the slots must hold (bytes / 4, rounded up)
  const float* x = nullptr;
  float* y = nullptr;
  void Run() { cpu::qu8_max_pool_nhwc(s, kernel, reinterpret_cast<const uint8_t*>(x), reinterpret_cast<uint8_t*>(y), threads); }
};

// The step's p (NativePoolParams): every window must have a tap in bounds.
Qu8MaxPoolBaton ParseQu8MaxPool(Napi::Env env, const Napi::Value& p, const char* where);

struct QGapBaton {
  static constexpr const char* kName = "qGlobalAveragePool";
  int64_t n = 0, c = 0, hw = 0;
  bool x_u8 = false;
  cpu::QGlobalAveragePool q{};
  cpu::Qu8GavgSumKernel sum = nullptr;
  const char* kernel_name = "";
  int64_t nx = 0, ny = 0;
  const float* x = nullptr;
  float* y = nullptr;
  void Run() {
    cpu::qu8_global_average_pool(n, c, hw, q, sum, x_u8 ? reinterpret_cast<const uint8_t*>(x) : nullptr, x_u8 ? nullptr : x, y);
  }
};

// The step's n, c, hw, u8 (x is u8 NHWC bytes) and q: { xScale, xZeroPoint (u8 domain), multiplier,
// yScale, yZeroPoint, qmin, qmax }.
QGapBaton ParseQGap(Napi::Env env, const Napi::Object& o, const char* where);

}  // namespace resnode::napi
