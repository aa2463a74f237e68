// The addon's export table only. The bindings live in native/napi/*.cc, the
// kernels in native/cpu (and native/cuda when built with RESNODE_CUDA).
// Context-aware (NODE_API_MODULE): no process-global JS state, safe in worker_threads.
#include <napi.h>

#include "napi/backward_bindings.h"
#include "napi/bindings.h"
#ifdef RESNODE_CUDA
#include "napi/cuda.h"
#endif

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  namespace rn = resnode::napi;
  auto fn = [&](const char* name, Napi::Value (*f)(const Napi::CallbackInfo&)) {
    exports.Set(name, Napi::Function::New(env, f, name));
  };
  fn("info", rn::Info);
  fn("setIsa", rn::SetIsa);
  fn("setThreads", rn::SetThreads);
  fn("measurePeak", rn::MeasurePeak);
  fn("packConv2d", rn::PackConv2d);
  fn("conv2dSync", rn::Conv2dSync);
  fn("conv2d", rn::Conv2dAsync);
  fn("convKernel", rn::ConvKernel);
  fn("packGemm", rn::PackGemm);
  fn("packQConv2d", rn::PackQConv2d);
  fn("packConv2dNhwc", rn::PackConv2dNhwc);
  fn("gemmSync", rn::GemmSync);
  fn("gemm", rn::GemmAsync);
  fn("gemmKernel", rn::GemmKernel);
  fn("maxPoolSync", rn::MaxPoolSync);
  fn("maxPool", rn::MaxPoolAsync);
  fn("averagePoolSync", rn::AveragePoolSync);
  fn("averagePool", rn::AveragePoolAsync);
  fn("globalAveragePoolSync", rn::GlobalAveragePoolSync);
  fn("globalAveragePool", rn::GlobalAveragePoolAsync);
  fn("addSync", rn::AddSync);
  fn("add", rn::AddAsync);
  fn("float16ToFloat32", rn::Float16ToFloat32);
  fn("float32ToFloat16", rn::Float32ToFloat16);
  fn("stats", rn::Stats);
  fn("release", rn::Release);
  fn("createPlan", rn::CreatePlan);
  fn("runPlanSync", rn::RunPlanSync);
  fn("runPlan", rn::RunPlanAsync);
  fn("planKernels", rn::PlanKernels);
  rn::RegisterBackward(env, exports);  // training kernels (native/napi/backward.cc)
#ifdef RESNODE_CUDA
  rn::RegisterCuda(env, exports);
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(resnode, Init)
