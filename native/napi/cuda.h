// N-API bindings for the CUDA kernels (native/cuda). Compiled only when the
// addon is built with RESNODE_CUDA (npm run build:cuda). Context-aware: no
// process-global JS references; every handle is a type-tagged External.
#pragma once
#include <napi.h>

namespace resnode::napi {

// [sync] Adds the cuda* functions to `exports`. Safe on machines without a GPU:
// the functions exist and throw Error("CUDA is not available: <reason>").
// Params: env, exports. Returns: nothing. Throws: nothing.
void RegisterCuda(Napi::Env env, Napi::Object exports);

// [sync] The `cuda` part of info(): { compiled: true, available: boolean,
// device?: string, deviceCount: number, reason?: string }. Probes the driver
// once per process (cudaGetDeviceCount); never throws.
Napi::Object CudaInfo(Napi::Env env);

}  // namespace resnode::napi
