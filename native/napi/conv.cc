// packConv2d / conv2dSync / conv2d.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "../cpu/bf16.h"
#include "../cpu/eltwise/elementwise.h"
#include "../cpu/ops.h"
#include "../cpu/pack.h"
#include "args.h"
#include "batons.h"
#include "bindings.h"
#include "packed.h"
#include "worker.h"

namespace resnode::napi {

ConvCall ReadConvCall(Napi::Env env, const Napi::Value& pv, const char* where) {
  const Napi::Object p = ToObject(env, pv, where, "p");
  const auto in = GetIntArray(env, p, "inputDims", 4, where, 1, kMaxDim);
  ConvCall c;
  cpu::Conv2dShape& s = c.s;
  s.c_out = GetIntProp(env, p, "cOut", where, 1, kMaxDim);
  s.kh = GetIntProp(env, p, "kh", where, 1, kMaxDim);
  s.kw = GetIntProp(env, p, "kw", where, 1, kMaxDim);
  s.groups = GetIntProp(env, p, "groups", where, 1, kMaxDim);
  const auto strides = GetIntArray(env, p, "strides", 2, where, 1, kMaxDim);
  const auto pads = GetIntArray(env, p, "pads", 4, where, 0, kMaxDim);
  const auto dil = GetIntArray(env, p, "dilations", 2, where, 1, kMaxDim);
  const auto out = GetIntArray(env, p, "outDims", 2, where, 1, kMaxDim);
  c.relu = GetBoolProp(env, p, "relu", where);
  c.act = cpu::Clamp::relu(c.relu);
  // p.clip: [min, max], a Clip fused into the conv's store (optional).
  const Napi::Value clip = p.Get("clip");
  if (!clip.IsUndefined()) {
    const std::string want = "[min, max]: two numbers, min <= max (±Infinity allowed)";
    if (!clip.IsArray() || clip.As<Napi::Array>().Length() != 2) ThrowType(env, where, "p.clip", want, Describe(clip));
    const Napi::Value lo = clip.As<Napi::Array>().Get(0u), hi = clip.As<Napi::Array>().Get(1u);
    if (!lo.IsNumber() || !hi.IsNumber()) ThrowType(env, where, "p.clip", want, Describe(clip));
    const float a = float(lo.As<Napi::Number>().DoubleValue()), b = float(hi.As<Napi::Number>().DoubleValue());
    if (!(a <= b)) ThrowRange(env, where, "p.clip", want, Describe(clip));
    if (c.relu) ThrowRange(env, where, "p.clip", "absent when p.relu is true (one activation per conv)", Describe(clip));
    c.clip = true;
    c.act = cpu::Clamp{a, b};
  }
  // p.act: { fn, alpha, beta }, an activation applied to each finished tile (optional).
  const Napi::Value act = p.Get("act");
  if (!act.IsUndefined()) {
    static const char* kFns[] = {"sigmoid", "silu", "hardSigmoid", "hardSwish"};
    const Napi::Object o = ToObject(env, act, where, "p.act");
    const Napi::Value fv = o.Get("fn");
    const std::string fn = fv.IsString() ? fv.As<Napi::String>().Utf8Value() : "";
    const auto it = std::find(std::begin(kFns), std::end(kFns), fn);
    if (it == std::end(kFns))
      ThrowType(env, where, "p.act.fn", "one of 'sigmoid', 'silu', 'hardSigmoid', 'hardSwish'", Describe(fv));
    for (const char* key : {"alpha", "beta"}) {
      const Napi::Value v = o.Get(key);
      if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue()))
        ThrowType(env, where, std::string("p.act.") + key, "a finite number", Describe(v));
    }
    if (c.relu || c.clip) ThrowRange(env, where, "p.act", "absent when p.relu or p.clip is set (one activation per conv)", Describe(act));
    c.has_f = true;
    c.f.fn = cpu::UnaryFn(it - std::begin(kFns));  // the first four UnaryFn values, in this order
    c.f.alpha = float(o.Get("alpha").As<Napi::Number>().DoubleValue());
    c.f.beta = float(o.Get("beta").As<Napi::Number>().DoubleValue());
  }
  c.threads = int(GetIntProp(env, p, "threads", where, 0, kMaxThreads));
  s.n = in[0];
  s.c_in = in[1];
  s.h = in[2];
  s.w = in[3];
  s.stride_h = strides[0];
  s.stride_w = strides[1];
  s.dil_h = dil[0];
  s.dil_w = dil[1];
  s.pad_top = pads[0];
  s.pad_left = pads[1];
  s.pad_bottom = pads[2];
  s.pad_right = pads[3];
  const int64_t oh = cpu::window_output_size(s.h, s.kh, s.stride_h, s.dil_h, s.pad_top, s.pad_bottom);
  const int64_t ow = cpu::window_output_size(s.w, s.kw, s.stride_w, s.dil_w, s.pad_left, s.pad_right);
  if (out[0] != oh || out[1] != ow)
    ThrowRange(env, where, "p.outDims",
               "[" + std::to_string(oh) + ", " + std::to_string(ow) +
                   "] (from input dims, kernel, strides, pads and dilations; must be >= 1)",
               "[" + std::to_string(out[0]) + ", " + std::to_string(out[1]) + "]");
  s.out_h = oh;
  s.out_w = ow;
  c.nx = CheckedProduct(env, {s.n, s.c_in, s.h, s.w}, where, "x");
  c.ny = CheckedProduct(env, {s.n, s.c_out, oh, ow}, where, "y");
  return c;
}

void RequireConvMatchesWeights(Napi::Env env, const cpu::Conv2dShape& s, int64_t c_out, int64_t kh,
                               int64_t kw, int64_t groups, int64_t c_in_per_group,
                               const char* where) {
  auto same = [&](const char* name, int64_t got, int64_t packed_value) {
    if (got != packed_value)
      ThrowRange(env, where, name, std::to_string(packed_value) + " (as packed)",
                 std::to_string(got));
  };
  same("p.cOut", s.c_out, c_out);
  same("p.kh", s.kh, kh);
  same("p.kw", s.kw, kw);
  same("p.groups", s.groups, groups);
  if (s.c_in != c_in_per_group * groups)
    ThrowRange(env, where, "p.inputDims[1]",
               std::to_string(c_in_per_group * groups) +
                   " input channels (cInPerGroup x groups of the packed weights)",
               std::to_string(s.c_in));
}

// Reads and checks (packed, p). Every dim is checked here (and every length in
// BindConv), so the kernel can trust the shapes.
ConvBaton ParseConvParams(Napi::Env env, const Napi::Value& packed, const Napi::Value& pv,
                          const char* where) {
  ConvBaton b;
  b.w = UnwrapPackedConv(env, packed, where);
  const cpu::PackedConv& w = *b.w;
  const ConvCall c = ReadConvCall(env, pv, where);
  RequireConvMatchesWeights(env, c.s, w.c_out, w.kh, w.kw, w.groups, w.c_in_per_group, where);
  b.s = c.s;
  b.act = c.act;
  if (c.has_f) {
    b.f = c.f;
    b.f.kernel = cpu::unary_kernel(w.isa());  // the ISA the weights were packed for, as the conv's own kernel
  }
  b.threads = c.threads;
  b.nx = c.nx;
  b.ny = c.ny;
  b.choice = cpu::choose_conv2d(b.s, w);  // once: the plan step or call keeps this kernel
  const Napi::Value y_nhwc = pv.As<Napi::Object>().Get("yNhwc");
  b.y_nhwc = !y_nhwc.IsUndefined() && ToBool(env, y_nhwc, where, "p.yNhwc");
  if (b.y_nhwc && c.has_f) ThrowRange(env, where, "p.yNhwc", "false with p.act (an NHWC y takes ReLU or Clip only)", "true");
  return b;
}

void BindConv(Napi::Env env, ConvBaton& b, const F32& x, const F32& res, const F32& y,
              const char* where) {
  RequireLength(env, x, b.nx, where, "x");
  RequireLength(env, y, b.ny, where, "y");
  if (!res.object.IsEmpty()) {
    if (b.y_nhwc) ThrowRange(env, where, "residual", "null with p.yNhwc (an NHWC y takes no residual)", "a Float32Array");
    RequireLength(env, res, b.ny, where, "residual");
    // residual === y (same start and size) is supported: y += conv(x).
    RequireNoOverlap(env, y.data, b.ny, res.data, b.ny, true, where,
                     "y and residual overlap (they may only be the very same buffer)");
  }
  RequireNoOverlap(env, y.data, b.ny, x.data, b.nx, false, where, "y must not overlap x");
  b.x = x.data;
  b.residual = res.data;
  b.y = y.data;
}

namespace {

// (packed, x, residual, y, p)
ConvBaton ParseConv(const Napi::CallbackInfo& info, const char* where) {
  Napi::Env env = info.Env();
  UnwrapPackedConv(info, 0, where);  // argument order of the checks: packed first
  const F32 x = GetF32(info, 1, where, "x");
  const F32 res = GetF32OrNull(info, 2, where, "residual");
  const F32 y = GetF32(info, 3, where, "y");
  ConvBaton b = ParseConvParams(env, info[0], info[4], where);
  BindConv(env, b, x, res, y, where);
  return b;
}

}  // namespace

// [sync] packConv2d(weight, bias, cOut, cInPerGroup, kh, kw, groups, mode = 'exact')
// Packs conv weights once for the ISA active now (the handle keeps that ISA
// for all its kernels even if setIsa() changes later). mode 'fast'
// (Precision::fast) also transforms 3x3 groups-1 weights for Winograd
// F(4x4,3x3) or F(2x2,3x3) (on first use); mode 'bf16' (Precision::bf16)
// packs them as bf16 pairs for the AVX512_BF16 kernels (bf16.h).
// Params: weight: Float32Array [cOut, cInPerGroup, kh, kw]; bias: Float32Array [cOut]
//   or null; cOut, cInPerGroup, kh, kw, groups: positive integers, groups | cOut;
//   mode: 'exact' | 'fast' | 'bf16' | undefined.
// Returns: an opaque packed handle (freed when collected).
// Throws: TypeError for wrong types; RangeError for bad sizes or short arrays;
//   Error for 'bf16' where AVX512_BF16 is missing or capped (the message says which).
Napi::Value PackConv2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* where = "packConv2d";
  const F32 weight = GetF32(info, 0, where, "weight");
  const F32 bias = GetF32OrNull(info, 1, where, "bias");
  const int64_t c_out = GetInt(info, 2, where, "cOut", 1, kMaxDim);
  const int64_t cin_g = GetInt(info, 3, where, "cInPerGroup", 1, kMaxDim);
  const int64_t kh = GetInt(info, 4, where, "kh", 1, kMaxDim);
  const int64_t kw = GetInt(info, 5, where, "kw", 1, kMaxDim);
  const int64_t groups = GetInt(info, 6, where, "groups", 1, kMaxDim);
  if (c_out % groups != 0)
    ThrowRange(env, where, "groups", "a divisor of cOut (" + std::to_string(c_out) + ")",
               std::to_string(groups));
  RequireLength(env, weight, CheckedProduct(env, {c_out, cin_g, kh, kw}, where, "weight"), where,
                "weight");
  if (!bias.object.IsEmpty()) RequireLength(env, bias, c_out, where, "bias");
  cpu::Precision precision = cpu::Precision::exact;
  if (info.Length() > 7 && !info[7].IsUndefined()) {
    const std::string mode = info[7].IsString() ? info[7].As<Napi::String>().Utf8Value() : "";
    if (mode == "fast") precision = cpu::Precision::fast;
    else if (mode == "bf16") precision = cpu::Precision::bf16;
    else if (mode != "exact") ThrowType(env, where, "mode", "'exact', 'fast' or 'bf16'", Describe(info[7]));
  }
  if (precision == cpu::Precision::bf16 && !cpu::bf16_available())
    throw Napi::Error::New(env, std::string(where) + ": mode 'bf16' is not available: " +
                                    cpu::bf16_unavailable_reason());
  try {
    return WrapPackedConv(env, cpu::pack_conv2d(weight.data, bias.data, c_out, cin_g, kh, kw,
                                                groups, precision));
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "packConv2d: out of memory packing the weights");
  }
}

// [sync] conv2dSync(packed, x, residual, y, p)
// y = relu?(conv(x, W) + bias + residual), computed on the calling thread plus
// the pool (p.threads threads in all; 0 = the setThreads() value).
// Params: packed: handle from packConv2d; x: Float32Array [n, cIn, h, w];
//   residual: Float32Array of y's shape, or null (it may be y itself: y += conv);
//   y: Float32Array [n, cOut, outH, outW], written; p: NativeConvParams.
// Returns: undefined.
// Throws: TypeError for wrong types or a detached buffer; RangeError when dims
//   disagree with the packed weights, outDims are wrong, an array is shorter
//   than its dims, or y overlaps x; Error if the native run fails.
Napi::Value Conv2dSync(const Napi::CallbackInfo& info) {
  ConvBaton b = ParseConv(info, "conv2dSync");
  RunBatonSync(info.Env(), b);
  return info.Env().Undefined();
}

// [async] conv2d(packed, x, residual, y, p): Promise<void>
// As conv2dSync, but runs on the libuv pool; the typed arrays and the handle
// are referenced until it settles, and x and residual are copied before it
// returns (detaching or writing to them meanwhile is harmless). y is written in
// place: pass a y that nobody else holds (src/ops.ts allocates it).
// Returns: a Promise that resolves once y is written.
// Throws: synchronously, the same TypeError/RangeError as conv2dSync; the
//   Promise rejects with Error if the native run fails.
Napi::Value Conv2dAsync(const Napi::CallbackInfo& info) {
  ConvBaton b = ParseConv(info, "conv2d");
  return QueueBaton(info.Env(), std::move(b), {info[0], info[1], info[2], info[3]});
}

// [sync] convKernel(packed, p): string
// The micro-kernel conv2d would run for these params (that of its main tiles),
// e.g. 'f32_dconv_14x32s1__avx512f', for per-layer profiles.
// Throws: as conv2dSync, for packed and p.
Napi::Value ConvKernel(const Napi::CallbackInfo& info) {
  const char* where = "convKernel";
  UnwrapPackedConv(info, 0, where);
  const ConvBaton b = ParseConvParams(info.Env(), info[0], info[1], where);
  return Napi::String::New(info.Env(), cpu::conv2d_kernel(b.s, *b.w, b.choice));
}

}  // namespace resnode::napi
