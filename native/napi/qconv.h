// The int8 conv plan step ('qconv'): the baton createPlan parses once and runPlan binds.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>

#include "../cpu/qgemm/qu8_conv2d_nhwc.h"

namespace resnode::napi {

struct QConvBaton {
  static constexpr const char* kName = "qconv";
  std::shared_ptr<cpu::Qu8ConvPacked> w;
  cpu::Qu8ConvShape s{};
  int threads = 0;
  int64_t nx = 0, ny = 0;  // floats x and y hold
  const float* x = nullptr;
  float* y = nullptr;
  void Run() {
    // The u8 NHWC activations live only inside the step (the plan's buffers are float32).
    // Uninitialised: the step writes every byte before reading it.
    std::unique_ptr<uint8_t[]> x_u8(new uint8_t[size_t(nx)]), y_u8(new uint8_t[size_t(ny)]);
    cpu::qu8_conv2d_nchw_f32(*w, s, x, y, x_u8.get(), y_u8.get(), threads);
  }
};

// The step's packed (a packQConv2d handle) and p (NativeConvParams: groups 1, no dilation,
// no clip or act; the ReLU is in the packed output range).
QConvBaton ParseQConvParams(Napi::Env env, const Napi::Value& packed, const Napi::Value& p,
                            const char* where);

}  // namespace resnode::napi
