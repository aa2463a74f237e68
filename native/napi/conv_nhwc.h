// The float32 NHWC plan steps: 'convNhwc' (the igemm conv, native/cpu/igemm) and 'reorder' (the
// NCHW <-> NHWC transpose, native/cpu/reorder): the batons createPlan parses once and runPlan
// binds. The indirection buffer of a convNhwc step is built when the step is parsed, once per
// plan (that is, per input shape), and shared by every run of the plan.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>

#include "../cpu/igemm/f32_conv2d_nhwc.h"
#include "../cpu/reorder/f32_transpose.h"

namespace resnode::napi {

struct ConvNhwcBaton {
  static constexpr const char* kName = "convNhwc";
  std::shared_ptr<cpu::F32NhwcConvPacked> w;
  std::shared_ptr<const cpu::F32NhwcIndirection> ind;
  cpu::F32NhwcConvShape s{};
  cpu::Clamp act;
  int threads = 0;
  int64_t nx = 0, ny = 0;  // floats of x and of y (and of the residual)
  const float* x = nullptr;
  const float* residual = nullptr;
  float* y = nullptr;
  void Run() { cpu::f32_conv2d_nhwc(*w, s, *ind, x, residual, act, y, threads); }
};

// The step's packed (a packConv2dNhwc handle) and p (NativeConvParams, inputDims and outDims in
// NCHW order as for 'conv': groups 1, no act; relu or clip fused).
ConvNhwcBaton ParseConvNhwcParams(Napi::Env env, const Napi::Value& packed, const Napi::Value& p, const char* where);

struct ReorderBaton {
  static constexpr const char* kName = "reorder";
  cpu::f32_transpose_fn kernel = nullptr;  // of the ISA active when the step was parsed
  cpu::Isa isa = cpu::Isa::scalar;
  int64_t n = 0, c = 0, hw = 0;
  bool to_nhwc = true;
  int threads = 0;
  const float* x = nullptr;
  float* y = nullptr;
  void Run() { cpu::f32_reorder(kernel, x, n, c, hw, to_nhwc, y, threads); }
};

// The step's n, c, hw, to ('nhwc' | 'nchw') and threads.
ReorderBaton ParseReorderParams(Napi::Env env, const Napi::Object& o, const char* where);
// The reorder's kernel name, as profile() reports it: f32_reorder_<from>_<to>__<isa>.
const char* ReorderKernelName(const ReorderBaton& b);

// [sync] packConv2dNhwc(weight, bias, cOut, cIn, kh, kw): the igemm panels of groups-1 conv
// weights [cOut, cIn, kh, kw] (bias [cOut] or null) for the ISA active now.
Napi::Value PackConv2dNhwc(const Napi::CallbackInfo& info);

}  // namespace resnode::napi
