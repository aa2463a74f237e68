// packGemm / gemmSync / gemm (fully connected: y = x . W^T + b).
#include <memory>
#include <string>

#include "../cpu/ops.h"
#include "../cpu/pack.h"
#include "args.h"
#include "batons.h"
#include "bindings.h"
#include "packed.h"
#include "worker.h"

namespace resnode::napi {

GemmBaton ParseGemmParams(Napi::Env env, const Napi::Value& packed, const Napi::Value& m,
                          const Napi::Value& relu, const Napi::Value& threads, const char* where) {
  GemmBaton b;
  b.w = UnwrapPackedGemm(env, packed, where);
  b.m = ToInt(env, m, where, "m", 1, kMaxDim);
  b.relu = ToBool(env, relu, where, "relu");
  b.threads = int(ToInt(env, threads, where, "threads", 0, kMaxThreads));
  b.nx = CheckedProduct(env, {b.m, b.w->k}, where, "x");
  b.ny = CheckedProduct(env, {b.m, b.w->n_out}, where, "y");
  return b;
}

void BindGemm(Napi::Env env, GemmBaton& b, const F32& x, const F32& y, const char* where) {
  RequireLength(env, x, b.nx, where, "x");
  RequireLength(env, y, b.ny, where, "y");
  RequireNoOverlap(env, y.data, b.ny, x.data, b.nx, false, where, "y must not overlap x");
  b.x = x.data;
  b.y = y.data;
}

namespace {

// (packed, x, m, relu, y, threads)
GemmBaton ParseGemm(const Napi::CallbackInfo& info, const char* where) {
  Napi::Env env = info.Env();
  UnwrapPackedGemm(info, 0, where);
  const F32 x = GetF32(info, 1, where, "x");
  GemmBaton b = ParseGemmParams(env, info[0], info[2], info[3], info[5], where);
  const F32 y = GetF32(info, 4, where, "y");
  BindGemm(env, b, x, y, where);
  return b;
}

}  // namespace

// [sync] packGemm(weight, bias, nOut, k)
// Packs fully connected weights once for the ISA active now.
// Params: weight: Float32Array [nOut, k]; bias: Float32Array [nOut] or null;
//   nOut, k: positive integers.
// Returns: an opaque packed handle (freed when collected).
// Throws: TypeError for wrong types; RangeError for bad sizes or short arrays.
Napi::Value PackGemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* where = "packGemm";
  const F32 weight = GetF32(info, 0, where, "weight");
  const F32 bias = GetF32OrNull(info, 1, where, "bias");
  const int64_t n_out = GetInt(info, 2, where, "nOut", 1, kMaxDim);
  const int64_t k = GetInt(info, 3, where, "k", 1, kMaxDim);
  RequireLength(env, weight, CheckedProduct(env, {n_out, k}, where, "weight"), where, "weight");
  if (!bias.object.IsEmpty()) RequireLength(env, bias, n_out, where, "bias");
  try {
    return WrapPackedGemm(env, cpu::pack_gemm(weight.data, bias.data, n_out, k));
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "packGemm: out of memory packing the weights");
  }
}

// [sync] gemmSync(packed, x, m, relu, y, threads)
// y[m, nOut] = relu?(x[m, k] . W^T + bias).
// Params: packed: handle from packGemm; x: Float32Array [m, k]; m: rows;
//   relu: boolean; y: Float32Array [m, nOut], written; threads: 0 = setThreads() value.
// Returns: undefined.
// Throws: TypeError for wrong types or a detached buffer; RangeError for short
//   arrays, bad m/threads or y overlapping x; Error if the native run fails.
Napi::Value GemmSync(const Napi::CallbackInfo& info) {
  GemmBaton b = ParseGemm(info, "gemmSync");
  RunBatonSync(info.Env(), b);
  return info.Env().Undefined();
}

// [async] gemm(packed, x, m, relu, y, threads): Promise<void>
// As gemmSync, on the libuv pool. Returns a Promise that resolves once y is written.
// Throws: synchronously as gemmSync; the Promise rejects with Error if the run fails.
Napi::Value GemmAsync(const Napi::CallbackInfo& info) {
  GemmBaton b = ParseGemm(info, "gemm");
  return QueueBaton(info.Env(), std::move(b), {info[0], info[1], info[4]});
}

// [sync] gemmKernel(packed, m): string
// The micro-kernel gemm would run for m rows, e.g. 'f32_gemm_1x32__avx512f'.
// Throws: TypeError / RangeError for a bad handle or m.
Napi::Value GemmKernel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* where = "gemmKernel";
  const std::shared_ptr<cpu::PackedGemm> w = UnwrapPackedGemm(info, 0, where);
  const int64_t m = ToInt(env, info[1], where, "m", 1, kMaxDim);
  return Napi::String::New(env, cpu::gemm_kernel(*w, m));
}

}  // namespace resnode::napi
