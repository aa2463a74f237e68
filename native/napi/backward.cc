// The backward (training) entry points: conv2dBackwardSync, batchNormTrainForwardSync,
// batchNormTrainBackwardSync, reluBackwardSync, maxPoolForwardArgmaxSync,
// maxPoolBackwardSync, globalAveragePoolBackwardSync, gemmBackwardSync,
// softmaxCrossEntropySync. All [sync]: a training step is a chain of dependent
// kernels, each already multi-threaded inside. The TS contract is
// NativeBackwardBinding in src/train/backend.ts; TypeScript validates first,
// these checks keep bad lengths from reaching the kernels.
#include <string>

#include "../cpu/backward.h"
#include "args.h"
#include "backward_bindings.h"

namespace resnode::napi {
namespace {

template <typename T, napi_typedarray_type kType>
T* GetTyped(const Napi::CallbackInfo& info, size_t index, const char* where, const char* name,
            const char* type_name, size_t need, bool nullable) {
  Napi::Value v = info[index];
  if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != kType)
    ThrowType(info.Env(), where, name, type_name, Describe(v));
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  if (a.ElementLength() < need)
    ThrowRange(info.Env(), where, std::string(name) + ".length", "at least " + std::to_string(need),
               std::to_string(a.ElementLength()));
  auto* base = static_cast<uint8_t*>(a.ArrayBuffer().Data());
  return reinterpret_cast<T*>(base + a.ByteOffset());
}

float* F32Arg(const Napi::CallbackInfo& info, size_t i, const char* where, const char* name,
              int64_t need, bool nullable = false) {
  return GetTyped<float, napi_float32_array>(info, i, where, name, "a Float32Array", size_t(need),
                                             nullable);
}
double* F64Arg(const Napi::CallbackInfo& info, size_t i, const char* where, const char* name,
               int64_t need) {
  return GetTyped<double, napi_float64_array>(info, i, where, name, "a Float64Array",
                                              size_t(need), false);
}
int32_t* I32Arg(const Napi::CallbackInfo& info, size_t i, const char* where, const char* name,
                int64_t need) {
  return GetTyped<int32_t, napi_int32_array>(info, i, where, name, "an Int32Array", size_t(need),
                                             false);
}
int Threads(const Napi::CallbackInfo& info, size_t i, const char* where) {
  return int(GetInt(info, i, where, "threads", 0, kMaxThreads));
}

}  // namespace

// [sync] conv2dBackwardSync(x, w, dy, dx | null, dw | null, db | null, p)
// Gradients of y = conv(x, w) + b. p: { inputDims [n,cIn,h,w], cOut, kh, kw, groups,
//   strides, pads [t,l,b,r], dilations, outDims [oh,ow], threads }.
// Params: x, w (unpacked [cOut, cIn/groups, kh, kw]), dy: Float32Array; dx, dw, db:
//   Float32Array outputs (overwritten) or null.
// Returns: undefined. Throws: TypeError / RangeError for bad types, dims or lengths.
Napi::Value Conv2dBackwardSync(const Napi::CallbackInfo& info) {
  const char* where = "conv2dBackwardSync";
  Napi::Env env = info.Env();
  const Napi::Object p = GetObject(info, 6, where, "p");
  const auto in = GetIntArray(env, p, "inputDims", 4, where, 1, kMaxDim);
  const auto st = GetIntArray(env, p, "strides", 2, where, 1, kMaxDim);
  const auto pads = GetIntArray(env, p, "pads", 4, where, 0, kMaxDim);
  const auto dil = GetIntArray(env, p, "dilations", 2, where, 1, kMaxDim);
  const auto out = GetIntArray(env, p, "outDims", 2, where, 1, kMaxDim);
  cpu::Conv2dShape s{};
  s.n = in[0]; s.c_in = in[1]; s.h = in[2]; s.w = in[3];
  s.c_out = GetIntProp(env, p, "cOut", where, 1, kMaxDim);
  s.kh = GetIntProp(env, p, "kh", where, 1, kMaxDim);
  s.kw = GetIntProp(env, p, "kw", where, 1, kMaxDim);
  s.groups = GetIntProp(env, p, "groups", where, 1, kMaxDim);
  s.stride_h = st[0]; s.stride_w = st[1]; s.dil_h = dil[0]; s.dil_w = dil[1];
  s.pad_top = pads[0]; s.pad_left = pads[1]; s.pad_bottom = pads[2]; s.pad_right = pads[3];
  s.out_h = out[0]; s.out_w = out[1];
  const int threads = int(GetIntProp(env, p, "threads", where, 0, kMaxThreads));
  if (s.c_in % s.groups != 0 || s.c_out % s.groups != 0)
    ThrowRange(env, where, "groups", "a divisor of cIn and cOut", std::to_string(s.groups));
  const int64_t ex = CheckedProduct(env, {s.n, s.c_in, s.h, s.w}, where, "x");
  const int64_t ew = CheckedProduct(env, {s.c_out, s.c_in / s.groups, s.kh, s.kw}, where, "w");
  const int64_t ey = CheckedProduct(env, {s.n, s.c_out, s.out_h, s.out_w}, where, "dy");
  const float* x = F32Arg(info, 0, where, "x", ex);
  const float* w = F32Arg(info, 1, where, "w", ew);
  const float* dy = F32Arg(info, 2, where, "dy", ey);
  float* dx = F32Arg(info, 3, where, "dx", ex, true);
  float* dw = F32Arg(info, 4, where, "dw", ew, true);
  float* db = F32Arg(info, 5, where, "db", s.c_out, true);
  cpu::conv2d_backward(s, x, w, dy, dx, dw, db, threads);
  return env.Undefined();
}

// [sync] batchNormTrainForwardSync(x, gamma, beta, eps, n, c, hw, y, saveMean, saveInvStd, threads)
// Training-mode BN with batch statistics. saveMean/saveInvStd: Float64Array [c], written.
// Returns: undefined. Throws: TypeError / RangeError.
Napi::Value BatchNormTrainForwardSync(const Napi::CallbackInfo& info) {
  const char* where = "batchNormTrainForwardSync";
  Napi::Env env = info.Env();
  const double eps = info[3].As<Napi::Number>().DoubleValue();
  const int64_t n = GetInt(info, 4, where, "n", 1, kMaxDim), c = GetInt(info, 5, where, "c", 1, kMaxDim),
                hw = GetInt(info, 6, where, "hw", 1, kMaxDim);
  const int64_t total = CheckedProduct(env, {n, c, hw}, where, "x");
  cpu::batch_norm_train_forward(F32Arg(info, 0, where, "x", total), F32Arg(info, 1, where, "gamma", c),
                                F32Arg(info, 2, where, "beta", c), eps, n, c, hw,
                                F32Arg(info, 7, where, "y", total), F64Arg(info, 8, where, "saveMean", c),
                                F64Arg(info, 9, where, "saveInvStd", c), Threads(info, 10, where));
  return env.Undefined();
}

// [sync] batchNormTrainBackwardSync(x, gamma, dy, saveMean, saveInvStd, n, c, hw, dx | null, dgamma, dbeta, threads)
// Returns: undefined. Throws: TypeError / RangeError.
Napi::Value BatchNormTrainBackwardSync(const Napi::CallbackInfo& info) {
  const char* where = "batchNormTrainBackwardSync";
  Napi::Env env = info.Env();
  const int64_t n = GetInt(info, 5, where, "n", 1, kMaxDim), c = GetInt(info, 6, where, "c", 1, kMaxDim),
                hw = GetInt(info, 7, where, "hw", 1, kMaxDim);
  const int64_t total = CheckedProduct(env, {n, c, hw}, where, "x");
  cpu::batch_norm_train_backward(
      F32Arg(info, 0, where, "x", total), F32Arg(info, 1, where, "gamma", c),
      F32Arg(info, 2, where, "dy", total), F64Arg(info, 3, where, "saveMean", c),
      F64Arg(info, 4, where, "saveInvStd", c), n, c, hw, F32Arg(info, 8, where, "dx", total, true),
      F32Arg(info, 9, where, "dgamma", c), F32Arg(info, 10, where, "dbeta", c), Threads(info, 11, where));
  return env.Undefined();
}

// [sync] reluBackwardSync(y, dy, dx, threads): dx = y > 0 ? dy : 0 over dy.length.
Napi::Value ReluBackwardSync(const Napi::CallbackInfo& info) {
  const char* where = "reluBackwardSync";
  const int64_t count = int64_t(info[1].As<Napi::TypedArray>().ElementLength());
  cpu::relu_backward(F32Arg(info, 0, where, "y", count), F32Arg(info, 1, where, "dy", count), count,
                     F32Arg(info, 2, where, "dx", count), Threads(info, 3, where));
  return info.Env().Undefined();
}

// [sync] maxPoolForwardArgmaxSync(x, y, argmax, p): p as maxPoolSync's (threads ignored).
// argmax: Int32Array [n·c·oh·ow], written with flat input indices (-1: empty window).
Napi::Value MaxPoolForwardArgmaxSync(const Napi::CallbackInfo& info) {
  const char* where = "maxPoolForwardArgmaxSync";
  Napi::Env env = info.Env();
  const Napi::Object p = GetObject(info, 3, where, "p");
  const auto in = GetIntArray(env, p, "inputDims", 4, where, 1, kMaxDim);
  const auto k = GetIntArray(env, p, "kernel", 2, where, 1, kMaxDim);
  const auto st = GetIntArray(env, p, "strides", 2, where, 1, kMaxDim);
  const auto pads = GetIntArray(env, p, "pads", 4, where, 0, kMaxDim);
  const auto dil = GetIntArray(env, p, "dilations", 2, where, 1, kMaxDim);
  const auto out = GetIntArray(env, p, "outDims", 2, where, 1, kMaxDim);
  cpu::Pool2dShape s{in[0], in[1], in[2], in[3], k[0], k[1], st[0], st[1], dil[0], dil[1],
                     pads[0], pads[1], pads[2], pads[3], out[0], out[1]};
  const int64_t nx = CheckedProduct(env, {s.n, s.c, s.h, s.w}, where, "x");
  const int64_t ny = CheckedProduct(env, {s.n, s.c, s.out_h, s.out_w}, where, "y");
  if (nx > int64_t(INT32_MAX)) ThrowRange(env, where, "x", "fewer than 2^31 elements", std::to_string(nx));
  cpu::max_pool2d_argmax(s, F32Arg(info, 0, where, "x", nx), F32Arg(info, 1, where, "y", ny),
                         I32Arg(info, 2, where, "argmax", ny));
  return env.Undefined();
}

// [sync] maxPoolBackwardSync(dy, argmax, dx): dx = 0, dx[argmax[o]] += dy[o].
Napi::Value MaxPoolBackwardSync(const Napi::CallbackInfo& info) {
  const char* where = "maxPoolBackwardSync";
  const int64_t ny = int64_t(info[0].As<Napi::TypedArray>().ElementLength());
  const int64_t nx = int64_t(info[2].As<Napi::TypedArray>().ElementLength());
  const int32_t* am = I32Arg(info, 1, where, "argmax", ny);
  for (int64_t o = 0; o < ny; ++o)
    if (am[o] >= nx) ThrowRange(info.Env(), where, "argmax", "indices below dx.length", std::to_string(am[o]));
  cpu::max_pool2d_backward(F32Arg(info, 0, where, "dy", ny), am, ny, F32Arg(info, 2, where, "dx", nx), nx);
  return info.Env().Undefined();
}

// [sync] globalAveragePoolBackwardSync(dy, planes, hw, dx): dx[p, i] = dy[p] / hw.
Napi::Value GlobalAveragePoolBackwardSync(const Napi::CallbackInfo& info) {
  const char* where = "globalAveragePoolBackwardSync";
  Napi::Env env = info.Env();
  const int64_t planes = GetInt(info, 1, where, "planes", 1, kMaxDim), hw = GetInt(info, 2, where, "hw", 1, kMaxDim);
  const int64_t total = CheckedProduct(env, {planes, hw}, where, "dx");
  cpu::global_average_pool_backward(F32Arg(info, 0, where, "dy", planes), planes, hw, F32Arg(info, 3, where, "dx", total));
  return env.Undefined();
}

// [sync] gemmBackwardSync(x, w, dy, m, k, nOut, dx | null, dw | null, db | null, threads)
// Backward of y = x·Wᵀ + b (x [m, k], W [nOut, k]).
Napi::Value GemmBackwardSync(const Napi::CallbackInfo& info) {
  const char* where = "gemmBackwardSync";
  Napi::Env env = info.Env();
  const int64_t m = GetInt(info, 3, where, "m", 1, kMaxDim), k = GetInt(info, 4, where, "k", 1, kMaxDim),
                no = GetInt(info, 5, where, "nOut", 1, kMaxDim);
  const int64_t nx = CheckedProduct(env, {m, k}, where, "x"), nw = CheckedProduct(env, {no, k}, where, "w"),
                ny = CheckedProduct(env, {m, no}, where, "dy");
  cpu::gemm_backward(F32Arg(info, 0, where, "x", nx), F32Arg(info, 1, where, "w", nw),
                     F32Arg(info, 2, where, "dy", ny), m, k, no, F32Arg(info, 6, where, "dx", nx, true),
                     F32Arg(info, 7, where, "dw", nw, true), F32Arg(info, 8, where, "db", no, true),
                     Threads(info, 9, where));
  return env.Undefined();
}

// [sync] softmaxCrossEntropySync(logits, labels, m, classes, dlogits | null): [loss, correct].
// labels: Int32Array [m] in [0, classes). Throws RangeError for a label out of range.
Napi::Value SoftmaxCrossEntropySync(const Napi::CallbackInfo& info) {
  const char* where = "softmaxCrossEntropySync";
  Napi::Env env = info.Env();
  const int64_t m = GetInt(info, 2, where, "m", 1, kMaxDim), classes = GetInt(info, 3, where, "classes", 1, kMaxDim);
  const int64_t total = CheckedProduct(env, {m, classes}, where, "logits");
  const int32_t* labels = I32Arg(info, 1, where, "labels", m);
  for (int64_t i = 0; i < m; ++i)
    if (labels[i] < 0 || labels[i] >= classes)
      ThrowRange(env, where, "labels", "values in [0, classes)", std::to_string(labels[i]));
  int64_t correct = 0;
  const double loss = cpu::softmax_cross_entropy(F32Arg(info, 0, where, "logits", total), labels, m, classes,
                                                 F32Arg(info, 4, where, "dlogits", total, true), &correct);
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(uint32_t(0), Napi::Number::New(env, loss));
  r.Set(uint32_t(1), Napi::Number::New(env, double(correct)));
  return r;
}

void RegisterBackward(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Value (*f)(const Napi::CallbackInfo&)) {
    exports.Set(name, Napi::Function::New(env, f, name));
  };
  fn("conv2dBackwardSync", Conv2dBackwardSync);
  fn("batchNormTrainForwardSync", BatchNormTrainForwardSync);
  fn("batchNormTrainBackwardSync", BatchNormTrainBackwardSync);
  fn("reluBackwardSync", ReluBackwardSync);
  fn("maxPoolForwardArgmaxSync", MaxPoolForwardArgmaxSync);
  fn("maxPoolBackwardSync", MaxPoolBackwardSync);
  fn("globalAveragePoolBackwardSync", GlobalAveragePoolBackwardSync);
  fn("gemmBackwardSync", GemmBackwardSync);
  fn("softmaxCrossEntropySync", SoftmaxCrossEntropySync);
}

}  // namespace resnode::napi
