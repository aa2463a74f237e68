// N-API bindings for the CUDA kernels. The JS surface (all on the addon's
// exports, see RegisterCuda):
//
//   cudaInfo(): {compiled, available, device?, deviceCount, reason?}
//   cudaCreateContext(device = 0): CudaContext          one stream + memory arena
//   cudaDisposeContext(ctx)                             waits for its work, releases it
//   cudaMemoryInfo(ctx): {reserved, inUse}              arena bytes
//   cudaAlloc(ctx, count): CudaBuffer                   device float32[count] (arena)
//   cudaUpload(buf, src: Float32Array, offset = 0)      enqueue host -> device
//   cudaDownloadSync(buf, dst) / cudaDownload(buf, dst): Promise   device -> host
//   cudaSynchronizeSync(ctx) / cudaSynchronize(ctx): Promise
//   cudaPackConv2d(ctx, weight, bias|null, cOut, cInPerGroup, kh, kw, groups): CudaPacked
//   cudaPackGemm(ctx, weight, bias|null, nOut, k): CudaPacked
//   cudaConv2dSync / cudaConv2d(ctx, packed, x, residual|null, y, p)       p: NativeConvParams + mode?
//   cudaGemmSync / cudaGemm(ctx, packed, x, m, relu, y, mode?)
//   cudaMaxPoolSync / cudaMaxPool(ctx, x, y, p)                              p: NativePoolParams
//   cudaAveragePoolSync / cudaAveragePool(ctx, x, y, p, countIncludePad)
//   cudaGlobalAveragePoolSync / cudaGlobalAveragePool(ctx, x, y, n, c, hw)
//   cudaAddSync / cudaAdd(ctx, a, b, y, relu)
//
// Tensor arguments are a Float32Array (host memory: staged through the
// context's arena, the call uploads, runs and downloads) or a CudaBuffer
// (device memory: stays on the device). A *Sync call whose tensors are all
// CudaBuffers only enqueues on the context's stream and returns at once: this is
// how a whole model runs with one upload and one download. The async forms run
// on the libuv pool and resolve when the stream has finished the work.
// mode is 'fp32' (exact, the default, as the library's default mode) or 'tf32'
// (tensor cores); src/backend/cuda.ts
// maps the library's modes (src/modes.ts) onto it.
// Every function except cudaInfo throws Error("CUDA is not available: <reason>")
// when no usable GPU exists.
//
// One N-API layer with the CPU bindings: the argument readers and error
// grammar of args.h ("cudaConv2d: expected ... for x but received ..."), the
// conv and pool parameter checks of batons.h (ReadConvCall, ReadPoolCall,
// RequireConvMatchesWeights), and the async worker of worker.h (teardown
// guard, in-flight counter, input copies). CudaBaton is this device's baton.
#include "cuda.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "../cuda/context.cuh"
#include "../cuda/conv2d.cuh"
#include "../cuda/eltwise.cuh"
#include "../cuda/gemm.cuh"
#include "../cuda/pool.cuh"
#include "args.h"
#include "batons.h"
#include "worker.h"

namespace resnode::napi {
namespace {

namespace cu = resnode::cuda;

// Every entry point but cudaInfo starts here. The message has no function name:
// the loader (src/backend/cuda.ts) and test/cuda.test.ts read it as is.
void RequireAvailable(Napi::Env env) {
  const cu::DeviceStatus& st = cu::device_status();
  if (!st.available) throw Napi::Error::New(env, "CUDA is not available: " + st.reason);
}

// [sync] Runs f() (CUDA calls that may throw std::exception) on the JS thread;
// such an exception becomes Error("<where>: <what>").
template <typename F>
auto Native(Napi::Env env, const char* where, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(where) + ": " + e.what());
  }
}

// ---- handles ------------------------------------------------------------------
const napi_type_tag kContextTag = {0x7a1c0e3b5d2f4a61ULL, 0x9e8d7c6b5a493827ULL};
const napi_type_tag kBufferTag = {0x7a1c0e3b5d2f4a62ULL, 0x9e8d7c6b5a493828ULL};
const napi_type_tag kPackedTag = {0x7a1c0e3b5d2f4a63ULL, 0x9e8d7c6b5a493829ULL};

struct ContextBox {
  std::shared_ptr<cu::Context> ctx;  // reset by cudaDisposeContext
};
struct DeviceBuffer {
  std::shared_ptr<cu::Context> ctx;
  float* ptr = nullptr;
  size_t count = 0;
  ~DeviceBuffer() {
    // Stream-ordered reuse: later users of this block are queued on the same
    // stream, after every kernel that may still read it.
    if (ptr) ctx->arena().release(ptr);
  }
};
struct PackedBox {
  std::shared_ptr<cu::ConvWeights> w;
};
struct BufferBox {
  std::shared_ptr<DeviceBuffer> buf;
};

template <class T>
Napi::Value Wrap(Napi::Env env, T* box, const napi_type_tag* tag) {
  auto ext = Napi::External<T>::New(env, box, [](Napi::Env, T* p) { delete p; });
  ext.TypeTag(tag);
  return ext;
}

template <class T>
T* Unwrap(Napi::Env env, const Napi::Value& v, const napi_type_tag* tag, const char* where,
          const char* name, const char* what) {
  if (!v.IsExternal() || !v.As<Napi::Object>().CheckTypeTag(tag)) ThrowType(env, where, name, what, Describe(v));
  return v.As<Napi::External<T>>().Data();
}

std::shared_ptr<cu::Context> GetContext(Napi::Env env, const Napi::Value& v, const char* where) {
  auto* box = Unwrap<ContextBox>(env, v, &kContextTag, where, "ctx", "a CudaContext (from cudaCreateContext)");
  if (!box->ctx) ThrowType(env, where, "ctx", "a live CudaContext", "one that has been disposed");
  return box->ctx;
}

std::shared_ptr<DeviceBuffer> GetBuffer(Napi::Env env, const Napi::Value& v, const char* where, const char* name) {
  return Unwrap<BufferBox>(env, v, &kBufferTag, where, name, "a CudaBuffer (from cudaAlloc)")->buf;
}

std::shared_ptr<cu::ConvWeights> GetPacked(Napi::Env env, const Napi::Value& v, const char* where, const char* from) {
  return Unwrap<PackedBox>(env, v, &kPackedTag, where, "packed", from)->w;
}

// 'fp32' (default: exact, as src/modes.ts's default) | 'tf32'
cu::MathMode ReadMathMode(Napi::Env env, const Napi::Value& v, const char* where, const char* name) {
  if (v.IsUndefined() || v.IsNull()) return cu::MathMode::fp32;
  const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "tf32") return cu::MathMode::tf32;
  if (s == "fp32") return cu::MathMode::fp32;
  ThrowType(env, where, name, "'tf32' or 'fp32'", v.IsString() ? "'" + s + "'" : Describe(v));
}

// A tensor argument: host memory (a Float32Array, staged through the arena) or a CudaBuffer.
struct TensorArg {
  const float* in = nullptr;  // host input
  float* out = nullptr;       // host output
  std::shared_ptr<DeviceBuffer> dev;
  size_t count = 0;  // elements the op reads or writes
  bool input = true;
  bool present = true;
};

// Reads a Float32Array or CudaBuffer that must hold at least `count` floats.
TensorArg ReadTensor(Napi::Env env, const Napi::Value& v, int64_t count, bool input, const char* where, const char* name) {
  TensorArg a;
  a.count = size_t(count);
  a.input = input;
  if (v.IsExternal()) {
    a.dev = GetBuffer(env, v, where, name);
    if (a.dev->count < a.count)
      ThrowRange(env, where, name, "a CudaBuffer of at least " + std::to_string(count) + " floats",
                 "one of " + std::to_string(a.dev->count));
    return a;
  }
  const F32 f = ToF32(env, v, where, name);
  RequireLength(env, f, count, where, name);
  if (input) a.in = f.data;
  else a.out = f.data;
  return a;
}

TensorArg ReadOptionalTensor(Napi::Env env, const Napi::Value& v, int64_t count, const char* where, const char* name) {
  if (v.IsNull() || v.IsUndefined()) {
    TensorArg a;
    a.present = false;
    return a;
  }
  return ReadTensor(env, v, count, true, where, name);
}

// ---- the CUDA baton ------------------------------------------------------------
// The device's baton for worker.h: Run() stages host tensors, enqueues the op
// and copies host outputs back; `wait` (the async forms) also waits for the
// stream. Thread-safe per context.
struct CudaBaton {
  const char* name = "cuda";  // the entry point, for errors
  std::shared_ptr<cu::Context> ctx;
  std::shared_ptr<cu::ConvWeights> weights;  // kept alive for the launch
  std::vector<TensorArg> args;
  std::function<void(cu::Context&, const std::vector<float*>&)> launch;
  bool wait = true;

  void Run() {
    cu::Context& c = *ctx;
    std::lock_guard<std::mutex> lock(c.mutex());
    c.activate();
    std::vector<std::unique_ptr<cu::DeviceScratch>> scratch;
    std::vector<float*> ptrs(args.size(), nullptr);
    for (size_t i = 0; i < args.size(); ++i) {
      const TensorArg& a = args[i];
      if (!a.present) continue;
      if (a.dev) {
        if (a.dev->ctx->device() != c.device()) throw std::runtime_error("CudaBuffer belongs to another device");
        ptrs[i] = a.dev->ptr;
      } else {
        scratch.emplace_back(new cu::DeviceScratch(c, a.count));
        ptrs[i] = scratch.back()->get();
        if (a.input) cu::upload(c, ptrs[i], a.in, a.count);
      }
    }
    launch(c, ptrs);
    bool downloaded = false;
    for (size_t i = 0; i < args.size(); ++i) {
      const TensorArg& a = args[i];
      if (a.present && !a.input && !a.dev) {
        cu::download(c, a.out, ptrs[i], a.count);  // waits for the stream
        downloaded = true;
      }
    }
    if (wait && !downloaded) c.synchronize();
    // The scratch blocks return to the arena here; reuse is stream-ordered.
  }

  // Host inputs are copied on the JS thread (worker.h), as the CPU batons' are.
  void OwnInputs(InputCopies& copies) {
    for (TensorArg& a : args)
      if (a.present && a.input && a.in) a.in = copies.Own(a.in, int64_t(a.count));
  }
};

// A baton for entry point `where` on the context `ctx`.
CudaBaton NewBaton(Napi::Env env, const Napi::Value& ctx, const char* where) {
  CudaBaton b;
  b.name = where;
  b.ctx = GetContext(env, ctx, where);
  return b;
}

// worker.h names a baton by its kName; this one carries its entry point's.
const char* BatonName(const CudaBaton& b) { return b.name; }
// Runs on the libuv thread that picked it up: the CPU runners are for the CPU thread pool.
void RunAsync(CudaBaton& b) { b.Run(); }

// The sync form runs (or, with CudaBuffers only, enqueues) now; the async one
// runs on the libuv pool and resolves when the stream is done.
Napi::Value Dispatch(const Napi::CallbackInfo& info, CudaBaton b, bool async) {
  Napi::Env env = info.Env();
  if (!async) {
    b.wait = false;
    RunBatonSync(env, b);
    return env.Undefined();
  }
  std::vector<Napi::Value> keep;
  for (size_t i = 0; i < info.Length(); ++i) keep.push_back(info[i]);
  return QueueBaton(env, std::move(b), keep);
}

// The fields a conv and a pool shape share (cpu:: and cu:: shapes have the same names).
template <typename From, typename To>
void CopyWindow(const From& f, To& t) {
  t.n = f.n;
  t.h = f.h;
  t.w = f.w;
  t.kh = f.kh;
  t.kw = f.kw;
  t.stride_h = f.stride_h;
  t.stride_w = f.stride_w;
  t.dil_h = f.dil_h;
  t.dil_w = f.dil_w;
  t.pad_top = f.pad_top;
  t.pad_left = f.pad_left;
  t.pad_bottom = f.pad_bottom;
  t.pad_right = f.pad_right;
  t.out_h = f.out_h;
  t.out_w = f.out_w;
}

// ---- functions ---------------------------------------------------------------------

// [sync] cudaInfo(): {compiled: true, available, device?, deviceCount, reason?}. Never throws.
Napi::Value Info(const Napi::CallbackInfo& info) { return CudaInfo(info.Env()); }

// [sync] cudaCreateContext(device = 0): CudaContext. A stream and a memory arena on
// `device`. Throws: Error when CUDA is unavailable or the device is missing.
Napi::Value CreateContext(const Napi::CallbackInfo& info) {
  const char* where = "cudaCreateContext";
  Napi::Env env = info.Env();
  RequireAvailable(env);
  const int64_t dev = info.Length() > 0 && !info[0].IsUndefined() ? GetInt(info, 0, where, "device", 0, 1024) : 0;
  return Native(env, where, [&] { return Wrap(env, new ContextBox{cu::Context::create(int(dev))}, &kContextTag); });
}

// [sync] cudaDisposeContext(ctx): waits for the context's queued work and drops it;
// its memory is freed once the last CudaBuffer of it is collected. Idempotent.
Napi::Value DisposeContext(const Napi::CallbackInfo& info) {
  const char* where = "cudaDisposeContext";
  Napi::Env env = info.Env();
  auto* box = Unwrap<ContextBox>(env, info[0], &kContextTag, where, "ctx", "a CudaContext (from cudaCreateContext)");
  if (box->ctx) {
    Native(env, where, [&] {
      std::lock_guard<std::mutex> lock(box->ctx->mutex());
      box->ctx->synchronize();
      box->ctx->arena().trim();
    });
    box->ctx.reset();
  }
  return env.Undefined();
}

// [sync] cudaMemoryInfo(ctx): {reserved, inUse, allocations}: the context arena's
// bytes, and how many blocks it has handed out so far (a device plan's second
// run of a shape adds none).
Napi::Value MemoryInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ctx = GetContext(env, info[0], "cudaMemoryInfo");
  auto o = Napi::Object::New(env);
  o.Set("reserved", Napi::Number::New(env, double(ctx->arena().bytes_reserved())));
  o.Set("inUse", Napi::Number::New(env, double(ctx->arena().bytes_in_use())));
  o.Set("allocations", Napi::Number::New(env, double(ctx->arena().allocations())));
  return o;
}

// [sync] cudaAlloc(ctx, count): CudaBuffer of `count` float32 on the device (contents
// undefined). Freed back to the arena when garbage-collected. Throws: Error on OOM.
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  const char* where = "cudaAlloc";
  Napi::Env env = info.Env();
  RequireAvailable(env);
  auto ctx = GetContext(env, info[0], where);
  auto buf = std::make_shared<DeviceBuffer>();
  buf->ctx = ctx;
  buf->count = size_t(GetInt(info, 1, where, "count", 0, int64_t(1) << 40));
  Native(env, where, [&] {
    std::lock_guard<std::mutex> lock(ctx->mutex());
    buf->ptr = static_cast<float*>(ctx->arena().allocate(buf->count * sizeof(float)));
  });
  return Wrap(env, new BufferBox{buf}, &kBufferTag);
}

// [sync] cudaUpload(buf, src: Float32Array, offset = 0): enqueues src -> buf[offset..]
// on the context's stream (src may be reused as soon as this returns).
// Throws: RangeError when it does not fit.
Napi::Value Upload(const Napi::CallbackInfo& info) {
  const char* where = "cudaUpload";
  Napi::Env env = info.Env();
  RequireAvailable(env);
  auto buf = GetBuffer(env, info[0], where, "buf");
  const F32 src = GetF32(info, 1, where, "src");
  const int64_t off = info.Length() > 2 && !info[2].IsUndefined() ? GetInt(info, 2, where, "offset", 0, int64_t(1) << 40) : 0;
  if (size_t(off) + src.length > buf->count)
    ThrowRange(env, where, "src", "at most " + std::to_string(buf->count - std::min(buf->count, size_t(off))) + " floats (the CudaBuffer past offset)",
               std::to_string(src.length));
  Native(env, where, [&] {
    std::lock_guard<std::mutex> lock(buf->ctx->mutex());
    buf->ctx->activate();
    cu::upload(*buf->ctx, buf->ptr + off, src.data, src.length);
  });
  return env.Undefined();
}

CudaBaton DownloadBaton(const Napi::CallbackInfo& info, const char* where) {
  Napi::Env env = info.Env();
  auto buf = GetBuffer(env, info[0], where, "buf");
  const F32 dst = GetF32(info, 1, where, "dst");
  const size_t n = dst.length < buf->count ? dst.length : buf->count;
  CudaBaton b;
  b.name = where;
  b.ctx = buf->ctx;
  float* host = dst.data;
  b.launch = [buf, host, n](cu::Context& ctx, const std::vector<float*>&) { cu::download(ctx, host, buf->ptr, n); };
  return b;
}


CudaBaton SynchronizeBaton(const Napi::CallbackInfo& info, const char* where) {
  CudaBaton b = NewBaton(info.Env(), info[0], where);
  b.launch = [](cu::Context& ctx, const std::vector<float*>&) { ctx.synchronize(); };
  return b;
}

// The weight and bias arguments of the pack functions: (ctx, weight, bias|null, dims...).
struct PackArgs {
  std::shared_ptr<cu::Context> ctx;
  F32 weight, bias;
};
PackArgs ReadPackArgs(const Napi::CallbackInfo& info, int64_t weight_floats, int64_t bias_floats, const char* where) {
  Napi::Env env = info.Env();
  PackArgs a{GetContext(env, info[0], where), GetF32(info, 1, where, "weight"), GetF32OrNull(info, 2, where, "bias")};
  RequireLength(env, a.weight, weight_floats, where, "weight");
  if (a.bias.data) RequireLength(env, a.bias, bias_floats, where, "bias");
  return a;
}

// [sync] cudaPackConv2d(ctx, weight, bias|null, cOut, cInPerGroup, kh, kw, groups):
// CudaPacked. weight is [cOut, cInPerGroup, kh, kw] (float32), packed once to the
// device. Throws: TypeError/RangeError on bad arguments, Error on CUDA failures.
Napi::Value PackConv2d(const Napi::CallbackInfo& info) {
  const char* where = "cudaPackConv2d";
  Napi::Env env = info.Env();
  RequireAvailable(env);
  const int64_t c_out = GetInt(info, 3, where, "cOut", 1, kMaxDim), cig = GetInt(info, 4, where, "cInPerGroup", 1, kMaxDim),
                kh = GetInt(info, 5, where, "kh", 1, kMaxDim), kw = GetInt(info, 6, where, "kw", 1, kMaxDim),
                groups = GetInt(info, 7, where, "groups", 1, kMaxDim);
  if (c_out % groups != 0) ThrowRange(env, where, "groups", "a divisor of cOut (" + std::to_string(c_out) + ")", std::to_string(groups));
  const PackArgs a = ReadPackArgs(info, CheckedProduct(env, {c_out, cig, kh, kw}, where, "weight"), c_out, where);
  return Native(env, where, [&] {
    std::lock_guard<std::mutex> lock(a.ctx->mutex());
    return Wrap(env, new PackedBox{cu::pack_conv2d(*a.ctx, a.weight.data, a.bias.data, c_out, cig, kh, kw, groups)}, &kPackedTag);
  });
}

// [sync] cudaPackGemm(ctx, weight, bias|null, nOut, k): CudaPacked for y = x·Wᵀ + b,
// weight [nOut, k].
Napi::Value PackGemm(const Napi::CallbackInfo& info) {
  const char* where = "cudaPackGemm";
  Napi::Env env = info.Env();
  RequireAvailable(env);
  const int64_t n_out = GetInt(info, 3, where, "nOut", 1, kMaxDim), k = GetInt(info, 4, where, "k", 1, kMaxDim);
  const PackArgs a = ReadPackArgs(info, CheckedProduct(env, {n_out, k}, where, "weight"), n_out, where);
  return Native(env, where, [&] {
    std::lock_guard<std::mutex> lock(a.ctx->mutex());
    return Wrap(env, new PackedBox{cu::pack_gemm(*a.ctx, a.weight.data, a.bias.data, n_out, k)}, &kPackedTag);
  });
}

// (ctx, packed, x, residual|null, y, p: NativeConvParams + mode?)
CudaBaton ConvBaton(const Napi::CallbackInfo& info, const char* where) {
  Napi::Env env = info.Env();
  CudaBaton b = NewBaton(env, info[0], where);
  b.weights = GetPacked(env, info[1], where, "a CudaPacked (from cudaPackConv2d)");
  const ConvCall c = ReadConvCall(env, info[5], where);
  if (c.clip) ThrowRange(env, where, "p.clip", "absent (the CUDA conv fuses only ReLU)", "a clip");
  if (c.has_f) ThrowRange(env, where, "p.act", "absent (the CUDA conv fuses only ReLU)", "an activation");
  const cu::ConvWeights& w = *b.weights;
  RequireConvMatchesWeights(env, c.s, w.c_out, w.kh, w.kw, w.groups, w.c_in_per_group, where);
  const cu::MathMode mode = ReadMathMode(env, info[5].As<Napi::Object>().Get("mode"), where, "p.mode");
  cu::Conv2dShape s{};
  CopyWindow(c.s, s);
  s.c_in = c.s.c_in;
  s.c_out = c.s.c_out;
  s.groups = c.s.groups;
  b.args.push_back(ReadTensor(env, info[2], c.nx, true, where, "x"));
  b.args.push_back(ReadOptionalTensor(env, info[3], c.ny, where, "residual"));
  b.args.push_back(ReadTensor(env, info[4], c.ny, false, where, "y"));
  auto wp = b.weights;
  const bool relu = c.relu;
  b.launch = [s, wp, relu, mode](cu::Context& ctx, const std::vector<float*>& t) { cu::conv2d(ctx, s, *wp, t[0], t[1], relu, t[2], mode); };
  return b;
}

// (ctx, packed, x, m, relu, y, mode?)
CudaBaton GemmBaton(const Napi::CallbackInfo& info, const char* where) {
  Napi::Env env = info.Env();
  CudaBaton b = NewBaton(env, info[0], where);
  b.weights = GetPacked(env, info[1], where, "a CudaPacked (from cudaPackGemm)");
  const cu::ConvWeights& w = *b.weights;
  if (w.kh != 1 || w.kw != 1 || w.groups != 1) ThrowType(env, where, "packed", "a CudaPacked from cudaPackGemm", "one from cudaPackConv2d");
  const int64_t m = GetInt(info, 3, where, "m", 1, kMaxDim);
  const bool relu = GetBool(info, 4, where, "relu");
  const cu::MathMode mode = ReadMathMode(env, info.Length() > 6 ? info[6] : env.Undefined(), where, "mode");
  b.args.push_back(ReadTensor(env, info[2], CheckedProduct(env, {m, w.c_in_per_group}, where, "x"), true, where, "x"));
  b.args.push_back(ReadTensor(env, info[5], CheckedProduct(env, {m, w.c_out}, where, "y"), false, where, "y"));
  auto wp = b.weights;
  b.launch = [wp, m, relu, mode](cu::Context& ctx, const std::vector<float*>& t) { cu::gemm(ctx, *wp, t[0], m, relu, t[1], mode); };
  return b;
}

// (ctx, x, y, p: NativePoolParams[, countIncludePad])
CudaBaton PoolBaton(const Napi::CallbackInfo& info, bool is_max, const char* where) {
  Napi::Env env = info.Env();
  CudaBaton b = NewBaton(env, info[0], where);
  const PoolCall c = ReadPoolCall(env, info[3], where);
  if (c.nhwc) ThrowRange(env, where, "p.nhwc", "false (the CUDA pools read NCHW)", "true");
  const bool cip = !is_max && info.Length() > 4 && GetBool(info, 4, where, "countIncludePad");
  cu::Pool2dShape s{};
  CopyWindow(c.s, s);
  s.c = c.s.c;
  b.args.push_back(ReadTensor(env, info[1], c.nx, true, where, "x"));
  b.args.push_back(ReadTensor(env, info[2], c.ny, false, where, "y"));
  b.launch = [s, is_max, cip](cu::Context& ctx, const std::vector<float*>& t) {
    if (is_max) cu::max_pool2d(ctx, s, t[0], t[1]);
    else cu::average_pool2d(ctx, s, cip, t[0], t[1]);
  };
  return b;
}

// (ctx, x, y, n, c, hw)
CudaBaton GapBaton(const Napi::CallbackInfo& info, const char* where) {
  Napi::Env env = info.Env();
  CudaBaton b = NewBaton(env, info[0], where);
  const int64_t n = GetInt(info, 3, where, "n", 1, kMaxDim), c = GetInt(info, 4, where, "c", 1, kMaxDim),
                hw = GetInt(info, 5, where, "hw", 1, kMaxDim);
  b.args.push_back(ReadTensor(env, info[1], CheckedProduct(env, {n, c, hw}, where, "x"), true, where, "x"));
  b.args.push_back(ReadTensor(env, info[2], CheckedProduct(env, {n, c}, where, "y"), false, where, "y"));
  b.launch = [n, c, hw](cu::Context& ctx, const std::vector<float*>& t) { cu::global_average_pool(ctx, n, c, hw, t[0], t[1]); };
  return b;
}

// (ctx, a, b, y, relu, count?): count defaults to y's length (host) or count (CudaBuffer).
CudaBaton AddBaton(const Napi::CallbackInfo& info, const char* where) {
  Napi::Env env = info.Env();
  CudaBaton b = NewBaton(env, info[0], where);
  const bool relu = GetBool(info, 4, where, "relu");
  int64_t count = 0;
  if (info.Length() > 5 && !info[5].IsUndefined()) count = GetInt(info, 5, where, "count", 0, int64_t(1) << 40);
  else count = int64_t(info[3].IsExternal() ? GetBuffer(env, info[3], where, "y")->count : GetF32(info, 3, where, "y").length);
  b.args.push_back(ReadTensor(env, info[1], count, true, where, "a"));
  b.args.push_back(ReadTensor(env, info[2], count, true, where, "b"));
  b.args.push_back(ReadTensor(env, info[3], count, false, where, "y"));
  b.launch = [count, relu](cu::Context& ctx, const std::vector<float*>& t) { cu::add(ctx, t[0], t[1], count, relu, t[2]); };
  return b;
}

CudaBaton MaxPoolBaton(const Napi::CallbackInfo& info, const char* where) { return PoolBaton(info, true, where); }
CudaBaton AveragePoolBaton(const Napi::CallbackInfo& info, const char* where) { return PoolBaton(info, false, where); }

// The op entry points: each reads its arguments into a CudaBaton and runs it
// now (the *Sync form: with CudaBuffers only, it enqueues and returns) or on
// the libuv pool (a Promise that resolves when the stream has done the work).
//   cudaDownloadSync / cudaDownload(buf, dst): min(dst.length, buf.count) floats device -> host
//   cudaSynchronizeSync / cudaSynchronize(ctx): waits for the context's queued work
//     (Error with the CUDA error when a queued kernel failed)
//   cudaConv2dSync / cudaConv2d(ctx, packed, x, residual|null, y, p): y = act(conv(x) + bias + residual),
//     p: NativeConvParams plus mode?: 'tf32' | 'fp32'
//   cudaGemmSync / cudaGemm(ctx, packed, x, m, relu, y, mode?): y[m, nOut] = x[m, k]·Wᵀ + b
//   cudaMaxPoolSync / cudaMaxPool(ctx, x, y, p: NativePoolParams)
//   cudaAveragePoolSync / cudaAveragePool(ctx, x, y, p, countIncludePad)
//   cudaGlobalAveragePoolSync / cudaGlobalAveragePool(ctx, x, y, n, c, hw): y[n, c] = mean(x[n, c, :])
//   cudaAddSync / cudaAdd(ctx, a, b, y, relu, count?): y = a + b (optional ReLU)
// Throws: TypeError/RangeError naming the function and argument; Error on CUDA failures.
struct OpEntry {
  const char* name;
  CudaBaton (*read)(const Napi::CallbackInfo&, const char*);
  bool async;
};
const OpEntry kOps[] = {
    {"cudaDownloadSync", DownloadBaton, false},           {"cudaDownload", DownloadBaton, true},
    {"cudaSynchronizeSync", SynchronizeBaton, false},     {"cudaSynchronize", SynchronizeBaton, true},
    {"cudaConv2dSync", ConvBaton, false},                 {"cudaConv2d", ConvBaton, true},
    {"cudaGemmSync", GemmBaton, false},                   {"cudaGemm", GemmBaton, true},
    {"cudaMaxPoolSync", MaxPoolBaton, false},             {"cudaMaxPool", MaxPoolBaton, true},
    {"cudaAveragePoolSync", AveragePoolBaton, false},     {"cudaAveragePool", AveragePoolBaton, true},
    {"cudaGlobalAveragePoolSync", GapBaton, false},       {"cudaGlobalAveragePool", GapBaton, true},
    {"cudaAddSync", AddBaton, false},                     {"cudaAdd", AddBaton, true},
};

Napi::Value RunOp(const Napi::CallbackInfo& info) {
  const auto* op = static_cast<const OpEntry*>(info.Data());
  RequireAvailable(info.Env());
  return Dispatch(info, op->read(info, op->name), op->async);
}

}  // namespace

Napi::Object CudaInfo(Napi::Env env) {
  const cu::DeviceStatus& st = cu::device_status();
  auto o = Napi::Object::New(env);
  o.Set("compiled", Napi::Boolean::New(env, true));
  o.Set("available", Napi::Boolean::New(env, st.available));
  o.Set("deviceCount", Napi::Number::New(env, st.device_count));
  if (st.available) {
    o.Set("device", Napi::String::New(env, st.device));
  } else {
    o.Set("reason", Napi::String::New(env, st.reason));
  }
  return o;
}

void RegisterCuda(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  static const Entry entries[] = {
      {"cudaInfo", Info},         {"cudaCreateContext", CreateContext}, {"cudaDisposeContext", DisposeContext},
      {"cudaMemoryInfo", MemoryInfo}, {"cudaAlloc", Alloc},          {"cudaUpload", Upload},
      {"cudaPackConv2d", PackConv2d}, {"cudaPackGemm", PackGemm},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  for (const OpEntry& op : kOps)
    exports.Set(op.name, Napi::Function::New(env, RunOp, op.name, const_cast<OpEntry*>(&op)));
}

}  // namespace resnode::napi
