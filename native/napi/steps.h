// The plan steps that have no single-op entry point: elementwise (unary,
// binary), data movement (strided, concat) and normalisation (softmax,
// layerNorm). Each Parse*Step reads and checks a step object's parameters once
// (createPlan) and says how many floats each of its buffers must hold; the
// plan binds the buffers at each run (Bind in plan.cc).
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../cpu/eltwise/elementwise.h"
#include "../cpu/layout.h"

namespace resnode::napi {

struct UnaryBaton {
  static constexpr const char* kName = "unary";
  cpu::Isa isa = cpu::Isa::scalar;    // fixed at parse time, as pool and conv kernels are
  cpu::UnaryKernel kernel = nullptr;  // that ISA's
  cpu::UnaryFn fn = cpu::UnaryFn::sigmoid;
  float alpha = 0, beta = 0;
  const float* x = nullptr;
  float* y = nullptr;
  int64_t count = 0;
  int threads = 0;
  void Run() { cpu::unary(kernel, fn, alpha, beta, x, y, count, threads); }
};

struct BinaryBaton {
  static constexpr const char* kName = "binary";
  cpu::Isa isa = cpu::Isa::scalar;
  cpu::BinaryRowKernel kernel = nullptr;
  cpu::BinaryFn fn = cpu::BinaryFn::add;
  bool relu = false;
  std::vector<int64_t> dims, as, bs;
  const float* a = nullptr;
  const float* b = nullptr;
  float* y = nullptr;
  int threads = 0;
  void Run() {
    cpu::binary(kernel, fn, relu, a, b, y, int(dims.size()), dims.data(), as.data(), bs.data(), threads);
  }
};

struct StridedBaton {
  static constexpr const char* kName = "strided";
  std::vector<int64_t> dims, strides;
  int64_t offset = 0;
  const float* x = nullptr;
  float* y = nullptr;
  void Run() { cpu::strided_copy(x, y, int(dims.size()), dims.data(), strides.data(), offset); }
};

struct ConcatBaton {
  static constexpr const char* kName = "concat";
  int64_t outer = 0;
  std::vector<int64_t> chunks;
  std::vector<const float*> xs;
  float* y = nullptr;
  void Run() { cpu::concat(xs.data(), chunks.data(), int(chunks.size()), y, outer); }
};

struct SoftmaxBaton {
  static constexpr const char* kName = "softmax";
  int64_t outer = 0, n = 0, inner = 0;
  const float* x = nullptr;
  float* y = nullptr;
  void Run() { cpu::softmax(x, y, outer, n, inner); }
};

struct LayerNormBaton {
  static constexpr const char* kName = "layerNorm";
  cpu::Isa isa = cpu::Isa::scalar;          // fixed at parse time
  cpu::f32_layernorm_fn kernel = nullptr;  // that ISA's row kernel
  int64_t outer = 0, n = 0;
  float epsilon = 0;
  const float* x = nullptr;
  const float* scale = nullptr;
  const float* bias = nullptr;  // null: no bias input
  float* y = nullptr;
  void Run() { cpu::layer_norm(kernel, x, scale, bias, y, outer, n, epsilon); }
};

// in_need[k]: floats input k must hold; out_need: the output's. n_inputs: how
// many inputs the step has (checked against its `inputs` by the caller).
struct StepNeeds {
  std::vector<int64_t> in_need;
  int64_t out_need = 0;
};

UnaryBaton ParseUnaryStep(Napi::Env env, const Napi::Object& o, const char* where, StepNeeds& need);
BinaryBaton ParseBinaryStep(Napi::Env env, const Napi::Object& o, const char* where, StepNeeds& need);
StridedBaton ParseStridedStep(Napi::Env env, const Napi::Object& o, const char* where, StepNeeds& need);
ConcatBaton ParseConcatStep(Napi::Env env, const Napi::Object& o, size_t n_inputs, const char* where,
                            StepNeeds& need);
SoftmaxBaton ParseSoftmaxStep(Napi::Env env, const Napi::Object& o, const char* where, StepNeeds& need);
LayerNormBaton ParseLayerNormStep(Napi::Env env, const Napi::Object& o, size_t n_inputs,
                                  const char* where, StepNeeds& need);

}  // namespace resnode::napi
