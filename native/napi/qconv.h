// The int8 conv plan step ('qconv'): the baton createPlan parses once and runPlan binds.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>

#include <string>

#include "../cpu/qgemm/qu8_conv2d_nhwc.h"

namespace resnode::napi {

struct QConvBaton {
  static constexpr const char* kName = "qconv";
  std::shared_ptr<cpu::Qu8ConvPacked> w;
  cpu::Qu8ConvShape s{};
  int threads = 0;
  int64_t x_values = 0, y_values = 0;  // elements of x and y
  bool x_u8 = false, y_u8 = false;      // the plan keeps that value as u8 NHWC bytes in its slot
  int64_t nx = 0, ny = 0;               // floats x's and y's buffers must hold
  const float* x = nullptr;
  float* y = nullptr;
  // A fused residual QLinearAdd (inputs [x, residual]): y is the add's output.
  bool fused_add = false, r_u8 = false;
  cpu::Qu8ConvResidualAdd add;
  int64_t nr = 0;  // floats the residual's buffer must hold
  const char* add_kernel_name = "";  // for profiles: the GEMM's name + this
  const float* r = nullptr;
  void Run() {
    // A float32 side is converted through u8 NHWC scratch, uninitialised: the step writes every
    // byte before reading it.
    std::unique_ptr<uint8_t[]> xs(x_u8 ? nullptr : new uint8_t[size_t(x_values)]);
    std::unique_ptr<uint8_t[]> ys(y_u8 ? nullptr : new uint8_t[size_t(y_values)]);
    std::unique_ptr<uint8_t[]> rs(!fused_add || r_u8 ? nullptr : new uint8_t[size_t(y_values)]);
    cpu::Qu8ConvIo io;
    if (x_u8) io.x_u8 = reinterpret_cast<const uint8_t*>(x);
    else io.x_f32 = x;
    if (y_u8) io.y_u8 = reinterpret_cast<uint8_t*>(y);
    else io.y_f32 = y;
    if (fused_add && r_u8) io.r_u8 = reinterpret_cast<const uint8_t*>(r);
    else if (fused_add) io.r_f32 = r;
    cpu::qu8_conv2d_step(*w, s, io, xs.get(), ys.get(), threads, fused_add ? &add : nullptr, rs.get());
  }
};

// A QLinearAdd's q: { aScale, aZeroPoint, bScale, bZeroPoint, ratioA, ratioB, fixed, shift,
// y: { scale, zeroPoint, qmin, qmax } } (src/graph/graph.ts QLinearAddParams); `name` prefixes errors.
cpu::QLinearAdd ReadQLinearAddParams(Napi::Env env, const Napi::Value& q, const char* where, const std::string& name);

// The step's packed (a packQConv2d handle), p (NativeConvParams: groups 1, no dilation, no clip
// or act; the ReLU is in the packed output range) and io (undefined, or { x, y } each
// { layout: 'nchw', dtype: 'f32' } or { layout: 'nhwc', dtype: 'u8' }; with add, also r: the
// residual's) and add (undefined, or { q: QLinearAddParams, convIsA } for a fused residual add).
QConvBaton ParseQConvParams(Napi::Env env, const Napi::Value& packed, const Napi::Value& p,
                            const Napi::Value& io, const Napi::Value& add, const char* where);

}  // namespace resnode::napi
