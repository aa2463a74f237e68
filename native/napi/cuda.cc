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
// mode is 'tf32' (tensor cores, default) or 'fp32' (exact).
// Every function except cudaInfo throws Error("CUDA is not available: <reason>")
// when no usable GPU exists.
#include "cuda.h"

#include <cstring>
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

namespace resnode::napi {
namespace {

namespace cu = resnode::cuda;

// ---- errors -----------------------------------------------------------------
enum class ErrKind { error, type, range };
struct ArgError : std::runtime_error {
  ErrKind kind;
  ArgError(ErrKind k, const std::string& m) : std::runtime_error(m), kind(k) {}
};
[[noreturn]] void type_error(const std::string& m) { throw ArgError(ErrKind::type, m); }
[[noreturn]] void range_error(const std::string& m) { throw ArgError(ErrKind::range, m); }

Napi::Error make_error(Napi::Env env, const std::exception& e) {
  if (auto* a = dynamic_cast<const ArgError*>(&e)) {
    if (a->kind == ErrKind::type) return Napi::TypeError::New(env, a->what());
    if (a->kind == ErrKind::range) return Napi::RangeError::New(env, a->what());
  }
  return Napi::Error::New(env, e.what());
}

// Runs F and turns C++ exceptions into JS exceptions (with either N-API
// exception mode).
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guard(const Napi::CallbackInfo& info) {
#ifdef NODE_ADDON_API_CPP_EXCEPTIONS
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw make_error(info.Env(), e);
  }
#else
  try {
    return F(info);
  } catch (const std::exception& e) {
    make_error(info.Env(), e).ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
#endif
}

void require_available() {
  const cu::DeviceStatus& st = cu::device_status();
  if (!st.available) throw std::runtime_error("CUDA is not available: " + st.reason);
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
Napi::Value wrap(Napi::Env env, T* box, const napi_type_tag* tag) {
  auto ext = Napi::External<T>::New(env, box, [](Napi::Env, T* p) { delete p; });
  ext.TypeTag(tag);
  return ext;
}

template <class T>
T* unwrap(const Napi::Value& v, const napi_type_tag* tag, const char* what) {
  if (!v.IsExternal() || !v.As<Napi::Object>().CheckTypeTag(tag)) {
    type_error(std::string("Expected a ") + what);
  }
  return v.As<Napi::External<T>>().Data();
}

std::shared_ptr<cu::Context> get_ctx(const Napi::Value& v) {
  auto* box = unwrap<ContextBox>(v, &kContextTag, "CudaContext (from cudaCreateContext) for ctx");
  if (!box->ctx) throw std::runtime_error("This CudaContext has been disposed");
  return box->ctx;
}

// ---- argument readers ---------------------------------------------------------
int64_t get_int(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) type_error(std::string("Expected a number for ") + what);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d))) {
    type_error(std::string("Expected an integer for ") + what);
  }
  return static_cast<int64_t>(d);
}
int64_t get_int(const Napi::Object& o, const char* key) { return get_int(o.Get(key), key); }
std::vector<int64_t> get_ints(const Napi::Object& o, const char* key, size_t n) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) type_error(std::string("Expected an array for ") + key);
  auto a = v.As<Napi::Array>();
  if (a.Length() != n) range_error(std::string("Expected ") + std::to_string(n) + " values for " + key);
  std::vector<int64_t> r(n);
  for (uint32_t i = 0; i < n; ++i) r[i] = get_int(a.Get(i), key);
  return r;
}
bool get_bool(const Napi::Value& v, const char* what) {
  if (!v.IsBoolean()) type_error(std::string("Expected a boolean for ") + what);
  return v.As<Napi::Boolean>().Value();
}
cu::MathMode get_mode(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return cu::MathMode::tf32;
  if (v.IsString()) {
    const std::string s = v.As<Napi::String>().Utf8Value();
    if (s == "tf32") return cu::MathMode::tf32;
    if (s == "fp32") return cu::MathMode::fp32;
  }
  type_error("Expected 'tf32' or 'fp32' for mode");
}
Napi::Float32Array get_f32(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    type_error(std::string("Expected a Float32Array for ") + what);
  }
  return v.As<Napi::Float32Array>();
}

// A tensor argument: host Float32Array or CudaBuffer.
struct TensorArg {
  float* host = nullptr;
  std::shared_ptr<DeviceBuffer> dev;
  size_t count = 0;  // elements the op reads or writes
  bool input = true;
  bool present = true;
};

// ---- the op baton (copied into AsyncWorkers) ----------------------------------
struct OpBaton {
  std::shared_ptr<cu::Context> ctx;
  std::shared_ptr<cu::ConvWeights> weights;
  std::vector<TensorArg> args;
  std::function<void(cu::Context&, const std::vector<float*>&)> launch;
};

// Stages host tensors, enqueues the op, copies host outputs back. With
// wait=true (async forms) it also waits for the stream. Thread-safe per context.
void execute(OpBaton& b, bool wait) {
  cu::Context& ctx = *b.ctx;
  std::lock_guard<std::mutex> lock(ctx.mutex());
  ctx.activate();
  std::vector<std::unique_ptr<cu::DeviceScratch>> scratch;
  std::vector<float*> ptrs(b.args.size(), nullptr);
  for (size_t i = 0; i < b.args.size(); ++i) {
    TensorArg& a = b.args[i];
    if (!a.present) continue;
    if (a.dev) {
      if (a.dev->ctx->device() != ctx.device()) throw std::runtime_error("CudaBuffer belongs to another device");
      ptrs[i] = a.dev->ptr;
    } else {
      scratch.emplace_back(new cu::DeviceScratch(ctx, a.count));
      ptrs[i] = scratch.back()->get();
      if (a.input) cu::upload(ctx, ptrs[i], a.host, a.count);
    }
  }
  b.launch(ctx, ptrs);
  bool downloaded = false;
  for (size_t i = 0; i < b.args.size(); ++i) {
    const TensorArg& a = b.args[i];
    if (a.present && !a.input && !a.dev) {
      cu::download(ctx, a.host, ptrs[i], a.count);  // waits for the stream
      downloaded = true;
    }
  }
  if (wait && !downloaded) ctx.synchronize();
  // The scratch blocks return to the arena here; reuse is stream-ordered.
}

class OpWorker : public Napi::AsyncWorker {
 public:
  OpWorker(Napi::Env env, OpBaton baton, const std::vector<Napi::Value>& keep)
      : Napi::AsyncWorker(env, "resnode:cuda"), baton_(std::move(baton)), deferred_(Napi::Promise::Deferred::New(env)) {
    for (const auto& v : keep)
      if (v.IsObject()) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      execute(baton_, true);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  OpBaton baton_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> refs_;  // keep typed arrays / handles alive
};

// Parses a tensor argument and checks it holds at least `count` elements.
TensorArg tensor(const Napi::Value& v, size_t count, bool input, const char* what) {
  TensorArg a;
  a.count = count;
  a.input = input;
  if (v.IsExternal()) {
    auto* box = unwrap<BufferBox>(v, &kBufferTag, what);
    a.dev = box->buf;
    if (a.dev->count < count) {
      range_error(std::string("CudaBuffer for ") + what + " holds " + std::to_string(a.dev->count) +
                  " floats; " + std::to_string(count) + " needed");
    }
  } else {
    auto f = get_f32(v, what);
    if (f.ElementLength() < count) {
      range_error(std::string("Float32Array for ") + what + " holds " + std::to_string(f.ElementLength()) +
                  " floats; " + std::to_string(count) + " needed");
    }
    a.host = f.Data();
  }
  return a;
}
TensorArg optional_tensor(const Napi::Value& v, size_t count, const char* what) {
  if (v.IsNull() || v.IsUndefined()) {
    TensorArg a;
    a.present = false;
    return a;
  }
  return tensor(v, count, true, what);
}

Napi::Value run(const Napi::CallbackInfo& info, OpBaton b, bool async) {
  if (!async) {
    execute(b, false);
    return info.Env().Undefined();
  }
  std::vector<Napi::Value> keep;
  for (size_t i = 0; i < info.Length(); ++i) keep.push_back(info[i]);
  auto* w = new OpWorker(info.Env(), std::move(b), keep);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

// ---- functions ---------------------------------------------------------------------

// [sync] cudaInfo(): {compiled: true, available, device?, deviceCount, reason?}. Never throws.
Napi::Value Info(const Napi::CallbackInfo& info) { return CudaInfo(info.Env()); }

// [sync] cudaCreateContext(device = 0): CudaContext. A stream and a memory arena on
// `device`. Throws: Error when CUDA is unavailable or the device is missing.
Napi::Value CreateContext(const Napi::CallbackInfo& info) {
  require_available();
  const int64_t dev = info.Length() > 0 && !info[0].IsUndefined() ? get_int(info[0], "device") : 0;
  auto* box = new ContextBox{cu::Context::create(static_cast<int>(dev))};
  return wrap(info.Env(), box, &kContextTag);
}

// [sync] cudaDisposeContext(ctx): waits for the context's queued work and drops it;
// its memory is freed once the last CudaBuffer of it is collected. Idempotent.
Napi::Value DisposeContext(const Napi::CallbackInfo& info) {
  auto* box = unwrap<ContextBox>(info[0], &kContextTag, "CudaContext for ctx");
  if (box->ctx) {
    {
      std::lock_guard<std::mutex> lock(box->ctx->mutex());
      box->ctx->synchronize();
      box->ctx->arena().trim();
    }
    box->ctx.reset();
  }
  return info.Env().Undefined();
}

// [sync] cudaMemoryInfo(ctx): {reserved, inUse} bytes of the context's arena.
Napi::Value MemoryInfo(const Napi::CallbackInfo& info) {
  auto ctx = get_ctx(info[0]);
  auto o = Napi::Object::New(info.Env());
  o.Set("reserved", Napi::Number::New(info.Env(), static_cast<double>(ctx->arena().bytes_reserved())));
  o.Set("inUse", Napi::Number::New(info.Env(), static_cast<double>(ctx->arena().bytes_in_use())));
  return o;
}

// [sync] cudaAlloc(ctx, count): CudaBuffer of `count` float32 on the device (contents
// undefined). Freed back to the arena when garbage-collected. Throws: Error on OOM.
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  require_available();
  auto ctx = get_ctx(info[0]);
  const int64_t count = get_int(info[1], "count");
  if (count < 0) range_error("Expected count >= 0");
  auto buf = std::make_shared<DeviceBuffer>();
  buf->ctx = ctx;
  buf->count = static_cast<size_t>(count);
  {
    std::lock_guard<std::mutex> lock(ctx->mutex());
    buf->ptr = static_cast<float*>(ctx->arena().allocate(buf->count * sizeof(float)));
  }
  return wrap(info.Env(), new BufferBox{buf}, &kBufferTag);
}

// [sync] cudaUpload(buf, src: Float32Array, offset = 0): enqueues src -> buf[offset..]
// on the context's stream (src may be reused as soon as this returns).
// Throws: RangeError when it does not fit.
Napi::Value Upload(const Napi::CallbackInfo& info) {
  require_available();
  auto buf = unwrap<BufferBox>(info[0], &kBufferTag, "CudaBuffer for buf")->buf;
  auto src = get_f32(info[1], "src");
  const int64_t off = info.Length() > 2 && !info[2].IsUndefined() ? get_int(info[2], "offset") : 0;
  if (off < 0 || static_cast<size_t>(off) + src.ElementLength() > buf->count) range_error("upload does not fit the CudaBuffer");
  std::lock_guard<std::mutex> lock(buf->ctx->mutex());
  buf->ctx->activate();
  cu::upload(*buf->ctx, buf->ptr + off, src.Data(), src.ElementLength());
  return info.Env().Undefined();
}

OpBaton download_baton(const Napi::CallbackInfo& info) {
  auto buf = unwrap<BufferBox>(info[0], &kBufferTag, "CudaBuffer for buf")->buf;
  auto dst = get_f32(info[1], "dst");
  const size_t n = dst.ElementLength() < buf->count ? dst.ElementLength() : buf->count;
  OpBaton b;
  b.ctx = buf->ctx;
  float* host = dst.Data();
  auto dev = buf;
  b.launch = [dev, host, n](cu::Context& ctx, const std::vector<float*>&) {
    cu::download(ctx, host, dev->ptr, n);
  };
  return b;
}

// [sync] cudaDownloadSync(buf, dst: Float32Array): waits for the stream, copies
// min(dst.length, buf.count) floats into dst.
Napi::Value DownloadSync(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, download_baton(info), false);
}
// [async] cudaDownload(buf, dst): Promise<void>, as cudaDownloadSync off the main thread.
Napi::Value Download(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, download_baton(info), true);
}

OpBaton sync_baton(const Napi::CallbackInfo& info) {
  OpBaton b;
  b.ctx = get_ctx(info[0]);
  b.launch = [](cu::Context& ctx, const std::vector<float*>&) { ctx.synchronize(); };
  return b;
}
// [sync] cudaSynchronizeSync(ctx): waits for all work queued on the context.
// Throws: Error with the CUDA error when a queued kernel failed.
Napi::Value SynchronizeSync(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, sync_baton(info), false);
}
// [async] cudaSynchronize(ctx): Promise<void>, resolves when the queued work is done.
Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, sync_baton(info), true);
}

// [sync] cudaPackConv2d(ctx, weight, bias|null, cOut, cInPerGroup, kh, kw, groups):
// CudaPacked. weight is [cOut, cInPerGroup, kh, kw] (float32), packed once to the
// device. Throws: TypeError/RangeError on bad arguments, Error on CUDA failures.
Napi::Value PackConv2d(const Napi::CallbackInfo& info) {
  require_available();
  auto ctx = get_ctx(info[0]);
  auto w = get_f32(info[1], "weight");
  const int64_t c_out = get_int(info[3], "cOut"), cig = get_int(info[4], "cInPerGroup"),
                kh = get_int(info[5], "kh"), kw = get_int(info[6], "kw"), groups = get_int(info[7], "groups");
  if (c_out < 1 || cig < 1 || kh < 1 || kw < 1 || groups < 1 || c_out % groups) range_error("Invalid conv2d weight dimensions");
  if (w.ElementLength() < static_cast<size_t>(c_out * cig * kh * kw)) range_error("weight is too short");
  const float* bias = nullptr;
  if (!info[2].IsNull() && !info[2].IsUndefined()) {
    auto b = get_f32(info[2], "bias");
    if (b.ElementLength() < static_cast<size_t>(c_out)) range_error("bias is too short");
    bias = b.Data();
  }
  std::lock_guard<std::mutex> lock(ctx->mutex());
  auto packed = cu::pack_conv2d(*ctx, w.Data(), bias, c_out, cig, kh, kw, groups);
  return wrap(info.Env(), new PackedBox{packed}, &kPackedTag);
}

// [sync] cudaPackGemm(ctx, weight, bias|null, nOut, k): CudaPacked for y = x·Wᵀ + b,
// weight [nOut, k].
Napi::Value PackGemm(const Napi::CallbackInfo& info) {
  require_available();
  auto ctx = get_ctx(info[0]);
  auto w = get_f32(info[1], "weight");
  const int64_t n_out = get_int(info[3], "nOut"), k = get_int(info[4], "k");
  if (n_out < 1 || k < 1) range_error("Invalid gemm dimensions");
  if (w.ElementLength() < static_cast<size_t>(n_out * k)) range_error("weight is too short");
  const float* bias = nullptr;
  if (!info[2].IsNull() && !info[2].IsUndefined()) {
    auto b = get_f32(info[2], "bias");
    if (b.ElementLength() < static_cast<size_t>(n_out)) range_error("bias is too short");
    bias = b.Data();
  }
  std::lock_guard<std::mutex> lock(ctx->mutex());
  auto packed = cu::pack_gemm(*ctx, w.Data(), bias, n_out, k);
  return wrap(info.Env(), new PackedBox{packed}, &kPackedTag);
}

OpBaton conv_baton(const Napi::CallbackInfo& info) {
  OpBaton b;
  b.ctx = get_ctx(info[0]);
  b.weights = unwrap<PackedBox>(info[1], &kPackedTag, "CudaPacked (from cudaPackConv2d) for packed")->w;
  if (!info[5].IsObject()) type_error("Expected an object for p");
  auto p = info[5].As<Napi::Object>();
  const auto in = get_ints(p, "inputDims", 4), st = get_ints(p, "strides", 2), pads = get_ints(p, "pads", 4),
             dil = get_ints(p, "dilations", 2), out = get_ints(p, "outDims", 2);
  cu::Conv2dShape s{};
  s.n = in[0];
  s.c_in = in[1];
  s.h = in[2];
  s.w = in[3];
  s.c_out = get_int(p, "cOut");
  s.kh = get_int(p, "kh");
  s.kw = get_int(p, "kw");
  s.groups = get_int(p, "groups");
  s.stride_h = st[0];
  s.stride_w = st[1];
  s.pad_top = pads[0];
  s.pad_left = pads[1];
  s.pad_bottom = pads[2];
  s.pad_right = pads[3];
  s.dil_h = dil[0];
  s.dil_w = dil[1];
  s.out_h = out[0];
  s.out_w = out[1];
  const bool relu = get_bool(p.Get("relu"), "relu");
  const cu::MathMode mode = get_mode(p.Get("mode"));
  const auto& w = *b.weights;
  if (s.c_out != w.c_out || s.kh != w.kh || s.kw != w.kw || s.groups != w.groups || s.c_in != w.c_in_per_group * w.groups) {
    range_error("conv2d params do not match the packed weights");
  }
  const size_t xs = static_cast<size_t>(s.n * s.c_in * s.h * s.w), ys = static_cast<size_t>(s.n * s.c_out * s.out_h * s.out_w);
  b.args.push_back(tensor(info[2], xs, true, "x"));
  b.args.push_back(optional_tensor(info[3], ys, "residual"));
  b.args.push_back(tensor(info[4], ys, false, "y"));
  auto wp = b.weights;
  b.launch = [s, wp, relu, mode](cu::Context& ctx, const std::vector<float*>& t) {
    cu::conv2d(ctx, s, *wp, t[0], t[1], relu, t[2], mode);
  };
  return b;
}
// [sync] cudaConv2dSync(ctx, packed, x, residual|null, y, p): y = act(conv(x) + bias +
// residual). p: NativeConvParams plus mode?: 'tf32' | 'fp32'. With host arrays it
// returns when y is written; with CudaBuffers it only enqueues.
// Throws: TypeError/RangeError on bad arguments; Error on CUDA failures.
Napi::Value Conv2dSync(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, conv_baton(info), false);
}
// [async] cudaConv2d(...same as cudaConv2dSync): Promise<void>, resolves when y is written.
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, conv_baton(info), true);
}

OpBaton gemm_baton(const Napi::CallbackInfo& info) {
  OpBaton b;
  b.ctx = get_ctx(info[0]);
  b.weights = unwrap<PackedBox>(info[1], &kPackedTag, "CudaPacked (from cudaPackGemm) for packed")->w;
  const int64_t m = get_int(info[3], "m");
  const bool relu = get_bool(info[4], "relu");
  const cu::MathMode mode = get_mode(info.Length() > 6 ? info[6] : info.Env().Undefined());
  const auto& w = *b.weights;
  if (w.kh != 1 || w.kw != 1 || w.groups != 1) range_error("packed was not made by cudaPackGemm");
  b.args.push_back(tensor(info[2], static_cast<size_t>(m * w.c_in_per_group), true, "x"));
  b.args.push_back(tensor(info[5], static_cast<size_t>(m * w.c_out), false, "y"));
  auto wp = b.weights;
  b.launch = [wp, m, relu, mode](cu::Context& ctx, const std::vector<float*>& t) {
    cu::gemm(ctx, *wp, t[0], m, relu, t[1], mode);
  };
  return b;
}
// [sync] cudaGemmSync(ctx, packed, x, m, relu, y, mode?): y[m, nOut] = x[m, k]·Wᵀ + b.
Napi::Value GemmSync(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, gemm_baton(info), false);
}
// [async] cudaGemm(...): Promise<void>.
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, gemm_baton(info), true);
}

cu::Pool2dShape pool_shape(const Napi::Value& v) {
  if (!v.IsObject()) type_error("Expected an object for p");
  auto p = v.As<Napi::Object>();
  const auto in = get_ints(p, "inputDims", 4), k = get_ints(p, "kernel", 2), st = get_ints(p, "strides", 2),
             pads = get_ints(p, "pads", 4), dil = get_ints(p, "dilations", 2), out = get_ints(p, "outDims", 2);
  cu::Pool2dShape s{};
  s.n = in[0];
  s.c = in[1];
  s.h = in[2];
  s.w = in[3];
  s.kh = k[0];
  s.kw = k[1];
  s.stride_h = st[0];
  s.stride_w = st[1];
  s.pad_top = pads[0];
  s.pad_left = pads[1];
  s.pad_bottom = pads[2];
  s.pad_right = pads[3];
  s.dil_h = dil[0];
  s.dil_w = dil[1];
  s.out_h = out[0];
  s.out_w = out[1];
  return s;
}

OpBaton pool_baton(const Napi::CallbackInfo& info, bool is_max) {
  OpBaton b;
  b.ctx = get_ctx(info[0]);
  const cu::Pool2dShape s = pool_shape(info[3]);
  const bool cip = !is_max && info.Length() > 4 && get_bool(info[4], "countIncludePad");
  b.args.push_back(tensor(info[1], static_cast<size_t>(s.n * s.c * s.h * s.w), true, "x"));
  b.args.push_back(tensor(info[2], static_cast<size_t>(s.n * s.c * s.out_h * s.out_w), false, "y"));
  b.launch = [s, is_max, cip](cu::Context& ctx, const std::vector<float*>& t) {
    if (is_max) {
      cu::max_pool2d(ctx, s, t[0], t[1]);
    } else {
      cu::average_pool2d(ctx, s, cip, t[0], t[1]);
    }
  };
  return b;
}
// [sync] cudaMaxPoolSync(ctx, x, y, p: NativePoolParams).
Napi::Value MaxPoolSync(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, pool_baton(info, true), false);
}
// [async] cudaMaxPool(ctx, x, y, p): Promise<void>.
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, pool_baton(info, true), true);
}
// [sync] cudaAveragePoolSync(ctx, x, y, p, countIncludePad).
Napi::Value AveragePoolSync(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, pool_baton(info, false), false);
}
// [async] cudaAveragePool(ctx, x, y, p, countIncludePad): Promise<void>.
Napi::Value AveragePool(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, pool_baton(info, false), true);
}

OpBaton gap_baton(const Napi::CallbackInfo& info) {
  OpBaton b;
  b.ctx = get_ctx(info[0]);
  const int64_t n = get_int(info[3], "n"), c = get_int(info[4], "c"), hw = get_int(info[5], "hw");
  if (n < 0 || c < 0 || hw < 1) range_error("Invalid globalAveragePool dimensions");
  b.args.push_back(tensor(info[1], static_cast<size_t>(n * c * hw), true, "x"));
  b.args.push_back(tensor(info[2], static_cast<size_t>(n * c), false, "y"));
  b.launch = [n, c, hw](cu::Context& ctx, const std::vector<float*>& t) {
    cu::global_average_pool(ctx, n, c, hw, t[0], t[1]);
  };
  return b;
}
// [sync] cudaGlobalAveragePoolSync(ctx, x, y, n, c, hw): y[n, c] = mean(x[n, c, :]).
Napi::Value GlobalAveragePoolSync(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, gap_baton(info), false);
}
// [async] cudaGlobalAveragePool(...): Promise<void>.
Napi::Value GlobalAveragePool(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, gap_baton(info), true);
}

OpBaton add_baton(const Napi::CallbackInfo& info) {
  OpBaton b;
  b.ctx = get_ctx(info[0]);
  const bool relu = get_bool(info[4], "relu");
  // The element count is y's length (host) or, for a CudaBuffer y, its count.
  size_t count = 0;
  if (info[3].IsExternal()) {
    count = unwrap<BufferBox>(info[3], &kBufferTag, "CudaBuffer for y")->buf->count;
  } else {
    count = get_f32(info[3], "y").ElementLength();
  }
  if (info.Length() > 5 && !info[5].IsUndefined()) count = static_cast<size_t>(get_int(info[5], "count"));
  b.args.push_back(tensor(info[1], count, true, "a"));
  b.args.push_back(tensor(info[2], count, true, "b"));
  b.args.push_back(tensor(info[3], count, false, "y"));
  b.launch = [count, relu](cu::Context& ctx, const std::vector<float*>& t) {
    cu::add(ctx, t[0], t[1], static_cast<int64_t>(count), relu, t[2]);
  };
  return b;
}
// [sync] cudaAddSync(ctx, a, b, y, relu, count?): y = a + b (optional ReLU); count
// defaults to y's length.
Napi::Value AddSync(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, add_baton(info), false);
}
// [async] cudaAdd(...): Promise<void>.
Napi::Value Add(const Napi::CallbackInfo& info) {
  require_available();
  return run(info, add_baton(info), true);
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
      {"cudaInfo", Guard<Info>},
      {"cudaCreateContext", Guard<CreateContext>},
      {"cudaDisposeContext", Guard<DisposeContext>},
      {"cudaMemoryInfo", Guard<MemoryInfo>},
      {"cudaAlloc", Guard<Alloc>},
      {"cudaUpload", Guard<Upload>},
      {"cudaDownloadSync", Guard<DownloadSync>},
      {"cudaDownload", Guard<Download>},
      {"cudaSynchronizeSync", Guard<SynchronizeSync>},
      {"cudaSynchronize", Guard<Synchronize>},
      {"cudaPackConv2d", Guard<PackConv2d>},
      {"cudaPackGemm", Guard<PackGemm>},
      {"cudaConv2dSync", Guard<Conv2dSync>},
      {"cudaConv2d", Guard<Conv2d>},
      {"cudaGemmSync", Guard<GemmSync>},
      {"cudaGemm", Guard<Gemm>},
      {"cudaMaxPoolSync", Guard<MaxPoolSync>},
      {"cudaMaxPool", Guard<MaxPool>},
      {"cudaAveragePoolSync", Guard<AveragePoolSync>},
      {"cudaAveragePool", Guard<AveragePool>},
      {"cudaGlobalAveragePoolSync", Guard<GlobalAveragePoolSync>},
      {"cudaGlobalAveragePool", Guard<GlobalAveragePool>},
      {"cudaAddSync", Guard<AddSync>},
      {"cudaAdd", Guard<Add>},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}

}  // namespace resnode::napi
