// The addon's JS entry points (see src/native-binding.ts for the TS contract).
// native/addon.cc only puts these in the export table.
#pragma once
#include <napi.h>

namespace resnode::napi {

// info.cc
Napi::Value Info(const Napi::CallbackInfo& info);
Napi::Value SetIsa(const Napi::CallbackInfo& info);
Napi::Value SetThreads(const Napi::CallbackInfo& info);
Napi::Value MeasurePeak(const Napi::CallbackInfo& info);
// The `cuda` field of info(); stubbed in info.cc unless RESNODE_CUDA (then native/napi/cuda.cc).
Napi::Object CudaInfo(Napi::Env env);

// conv.cc
Napi::Value PackConv2d(const Napi::CallbackInfo& info);
Napi::Value Conv2dSync(const Napi::CallbackInfo& info);
Napi::Value Conv2dAsync(const Napi::CallbackInfo& info);
Napi::Value ConvKernel(const Napi::CallbackInfo& info);

// gemm.cc
Napi::Value PackGemm(const Napi::CallbackInfo& info);
Napi::Value PackQConv2d(const Napi::CallbackInfo& info);
Napi::Value PackConv2dNhwc(const Napi::CallbackInfo& info);  // conv_nhwc.cc
Napi::Value GemmSync(const Napi::CallbackInfo& info);
Napi::Value GemmAsync(const Napi::CallbackInfo& info);
Napi::Value GemmKernel(const Napi::CallbackInfo& info);

// pool.cc
Napi::Value MaxPoolSync(const Napi::CallbackInfo& info);
Napi::Value MaxPoolAsync(const Napi::CallbackInfo& info);
Napi::Value AveragePoolSync(const Napi::CallbackInfo& info);
Napi::Value AveragePoolAsync(const Napi::CallbackInfo& info);
Napi::Value GlobalAveragePoolSync(const Napi::CallbackInfo& info);
Napi::Value GlobalAveragePoolAsync(const Napi::CallbackInfo& info);

// eltwise.cc
Napi::Value AddSync(const Napi::CallbackInfo& info);
Napi::Value AddAsync(const Napi::CallbackInfo& info);

// half.cc
Napi::Value Float16ToFloat32(const Napi::CallbackInfo& info);
Napi::Value Float32ToFloat16(const Napi::CallbackInfo& info);

// stats.cc
Napi::Value Stats(const Napi::CallbackInfo& info);
Napi::Value Release(const Napi::CallbackInfo& info);

// plan.cc
Napi::Value CreatePlan(const Napi::CallbackInfo& info);
Napi::Value RunPlanSync(const Napi::CallbackInfo& info);
Napi::Value RunPlanAsync(const Napi::CallbackInfo& info);
Napi::Value PlanKernels(const Napi::CallbackInfo& info);

}  // namespace resnode::napi
