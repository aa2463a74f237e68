// packQConv2d and the 'qconv' plan step: JS validated the quantization (src/graph/integer-convs.ts
// forms it); here the arguments are checked once more, since a bad handle or range would read
// out of bounds, and the step then runs pure C++.
#include "qconv.h"

#include <cmath>
#include <string>

#include "../cpu/isa.h"
#include "args.h"
#include "batons.h"
#include "bindings.h"
#include "packed.h"

namespace resnode::napi {
namespace {

double FiniteProp(Napi::Env env, const Napi::Object& o, const char* key, const char* where) {
  const Napi::Value v = o.Get(key);
  if (!v.IsNumber()) ThrowType(env, where, std::string("q.") + key, "a number", Describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d > 0) || !std::isfinite(float(d)))
    ThrowRange(env, where, std::string("q.") + key, "a positive finite float32", Describe(v));
  return d;
}

// One side's format: true for u8 NHWC, false for float32 NCHW.
bool IsU8Nhwc(Napi::Env env, const Napi::Object& io, const char* key, const char* where) {
  const Napi::Value v = io.Get(key);
  const std::string name = std::string("io.") + key;
  const Napi::Object f = ToObject(env, v, where, name.c_str());
  const Napi::Value layout = f.Get("layout"), dtype = f.Get("dtype");
  const std::string l = layout.IsString() ? layout.As<Napi::String>().Utf8Value() : "";
  const std::string d = dtype.IsString() ? dtype.As<Napi::String>().Utf8Value() : "";
  if (l == "nhwc" && d == "u8") return true;
  if (l == "nchw" && d == "f32") return false;
  ThrowRange(env, where, name, "{ layout: 'nchw', dtype: 'f32' } or { layout: 'nhwc', dtype: 'u8' }", Describe(v));
}

}  // namespace

cpu::QLinearAdd ReadQLinearAddParams(Napi::Env env, const Napi::Value& qv, const char* where, const std::string& name) {
  const Napi::Object q = ToObject(env, qv, where, name.c_str());
  auto positive = [&](const Napi::Object& from, const char* key, const std::string& what) {
    const Napi::Value v = from.Get(key);
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(d > 0) || !std::isfinite(float(d))) ThrowRange(env, where, what, "a positive finite float32", Describe(v));
    return float(d);
  };
  cpu::QLinearAdd p;
  p.a_scale = positive(q, "aScale", name + ".aScale");
  p.b_scale = positive(q, "bScale", name + ".bScale");
  p.ratio_a = positive(q, "ratioA", name + ".ratioA");
  p.ratio_b = positive(q, "ratioB", name + ".ratioB");
  const Napi::Value fv = q.Get("fixed");
  if (!fv.IsNumber() || !std::isfinite(fv.As<Napi::Number>().DoubleValue()))
    ThrowType(env, where, name + ".fixed", "a finite number", Describe(fv));
  p.fixed = float(fv.As<Napi::Number>().DoubleValue());
  const int64_t shift = GetIntProp(env, q, "shift", where, 0, 128);
  if (shift != 0 && shift != 128) ThrowRange(env, where, name + ".shift", "0 or 128", std::to_string(shift));
  p.shift = int32_t(shift);
  p.a_zero_point = int32_t(GetIntProp(env, q, "aZeroPoint", where, -128, 255));
  p.b_zero_point = int32_t(GetIntProp(env, q, "bZeroPoint", where, -128, 255));
  const Napi::Object y = ToObject(env, q.Get("y"), where, (name + ".y").c_str());
  p.out_scale = positive(y, "scale", name + ".y.scale");
  p.qmin = int32_t(GetIntProp(env, y, "qmin", where, -128, 255));
  p.qmax = int32_t(GetIntProp(env, y, "qmax", where, p.qmin, 255));
  p.zero_point = int32_t(GetIntProp(env, y, "zeroPoint", where, -128, 255));
  return p;
}

// [sync] packQConv2d(weight, bias|null, multipliers, cOut, cIn, kh, kw, q)
// weight: Float32Array [cOut, cIn, kh, kw] of int8 integers; bias: [cOut] int32 integers or
// null; multipliers: [cOut] (scale_x * scale_w / scale_y); q: { xScale, xZeroPoint, xQmin, xQmax,
// yScale, yZeroPoint, yQmin, yQmax } in the model's types (uint8 [0, 255] or int8 [-128, 127]).
Napi::Value PackQConv2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* where = "packQConv2d";
  const F32 weight = GetF32(info, 0, where, "weight");
  const F32 bias = GetF32OrNull(info, 1, where, "bias");
  const F32 mult = GetF32(info, 2, where, "multipliers");
  auto p = std::make_shared<cpu::Qu8ConvPacked>();
  p->c_out = GetInt(info, 3, where, "cOut", 1, kMaxDim);
  p->c_in = GetInt(info, 4, where, "cIn", 1, kMaxDim);
  p->kh = GetInt(info, 5, where, "kh", 1, kMaxDim);
  p->kw = GetInt(info, 6, where, "kw", 1, kMaxDim);
  const int64_t k = CheckedProduct(env, {p->c_in, p->kh, p->kw}, where, "weight");
  const int64_t count = CheckedProduct(env, {p->c_out, k}, where, "weight");
  RequireLength(env, weight, count, where, "weight");
  if (!bias.object.IsEmpty()) RequireLength(env, bias, p->c_out, where, "bias");
  RequireLength(env, mult, p->c_out, where, "multipliers");
  const Napi::Object q = ToObject(env, info[7], where, "q");
  p->x_scale = float(FiniteProp(env, q, "xScale", where));
  p->y_scale = float(FiniteProp(env, q, "yScale", where));
  const int32_t x_qmin = int32_t(GetIntProp(env, q, "xQmin", where, -128, 0));
  const int32_t x_qmax = int32_t(GetIntProp(env, q, "xQmax", where, x_qmin, x_qmin + 255));
  const int32_t x_zp = int32_t(GetIntProp(env, q, "xZeroPoint", where, x_qmin, x_qmax));
  const int32_t y_qmin = int32_t(GetIntProp(env, q, "yQmin", where, -128, 255));
  const int32_t y_qmax = int32_t(GetIntProp(env, q, "yQmax", where, y_qmin, y_qmin < 0 ? 127 : 255));
  const int32_t y_zp = int32_t(GetIntProp(env, q, "yZeroPoint", where, y_qmin < 0 ? -128 : 0, y_qmin < 0 ? 127 : 255));
  p->x_shift = x_qmin < 0 ? 128 : 0;
  p->y_shift = y_qmin < 0 ? 128 : 0;
  p->x_zero_point = x_zp + p->x_shift;
  p->x_qmin = x_qmin + p->x_shift;
  p->x_qmax = x_qmax + p->x_shift;
  std::vector<int8_t> oihw(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const float v = weight.data[i];
    if (!(v >= -128.f && v <= 127.f) || v != std::nearbyint(v))
      ThrowRange(env, where, "weight[" + std::to_string(i) + "]", "an integer in [-128, 127]", std::to_string(v));
    oihw[size_t(i)] = int8_t(v);
  }
  std::vector<int32_t> b32(static_cast<size_t>(p->c_out), 0);
  for (int64_t i = 0; bias.data && i < p->c_out; ++i) {
    const float v = bias.data[i];
    if (!(std::fabs(v) < 2147483648.f) || v != std::nearbyint(v))
      ThrowRange(env, where, "bias[" + std::to_string(i) + "]", "an int32 integer", std::to_string(v));
    b32[size_t(i)] = int32_t(v);
  }
  const cpu::Qu8Requant r{y_zp + p->y_shift, y_qmin + p->y_shift, y_qmax + p->y_shift};
  // The kernel is fixed here, for the ISA active now (as packConv2d fixes the fp32 ones).
  const auto config = cpu::qu8s8_gemm_config(cpu::active_isa(), cpu::cpu_features().avx512_vnni);
  try {
    const int64_t c_tap = cpu::qu8_conv_tap_channels(config, p->c_in), k_tap = p->kh * p->kw * c_tap;
    std::vector<int8_t> ohwi(size_t(p->c_out * k_tap));
    cpu::qu8_conv_weights_ohwi(oihw.data(), p->c_out, p->c_in, p->kh, p->kw, c_tap, ohwi.data());
    p->gemm = cpu::qu8s8_pack(ohwi.data(), b32.data(), mult.data, p->c_out, k_tap, p->x_zero_point, r, config);
    p->layout = cpu::qu8_layout_config(cpu::active_isa());
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "packQConv2d: out of memory packing the weights");
  }
  return WrapPackedQConv(env, std::move(p));
}

QConvBaton ParseQConvParams(Napi::Env env, const Napi::Value& packed, const Napi::Value& pv,
                            const Napi::Value& iov, const Napi::Value& addv, const char* where) {
  QConvBaton b;
  b.w = UnwrapPackedQConv(env, packed, where);
  const cpu::Qu8ConvPacked& w = *b.w;
  const ConvCall c = ReadConvCall(env, pv, where);
  RequireConvMatchesWeights(env, c.s, w.c_out, w.kh, w.kw, 1, w.c_in, where);
  if (c.s.dil_h != 1 || c.s.dil_w != 1) ThrowRange(env, where, "p.dilations", "[1, 1] (an int8 conv)", "others");
  if (c.clip || c.has_f) ThrowRange(env, where, "p", "no clip or act (an int8 conv)", "one");
  b.s = {c.s.n, c.s.h, c.s.w, c.s.c_in, c.s.kh, c.s.kw, c.s.stride_h, c.s.stride_w,
         c.s.pad_top, c.s.pad_left, c.s.out_h, c.s.out_w};
  b.threads = c.threads;
  b.x_values = c.nx;
  b.y_values = c.ny;
  if (!iov.IsUndefined()) {
    const Napi::Object io = ToObject(env, iov, where, "io");
    b.x_u8 = IsU8Nhwc(env, io, "x", where);
    b.y_u8 = IsU8Nhwc(env, io, "y", where);
  }
  if (!addv.IsUndefined()) {
    const Napi::Object add = ToObject(env, addv, where, "add");
    b.fused_add = true;
    b.add.p = ReadQLinearAddParams(env, add.Get("q"), where, "add.q");
    b.add.conv_is_a = ToBool(env, add.Get("convIsA"), where, "add.convIsA");
    b.add.kernel = cpu::qu8_qlinear_add_kernel(cpu::active_isa());
    b.add_kernel_name = cpu::active_isa() == cpu::Isa::avx512 ? "qu8_qlinear_vadd__avx512f" : "qu8_qlinear_vadd__scalar";
    // The conv's bytes must be the add's operand as it reads them: one u8 domain.
    const cpu::QLinearAdd& a = b.add.p;
    const float scale = b.add.conv_is_a ? a.a_scale : a.b_scale;
    const int32_t zero = (b.add.conv_is_a ? a.a_zero_point : a.b_zero_point) + a.shift;
    if (a.shift != w.y_shift || scale != w.y_scale || zero != w.gemm.requant.zero_point)
      ThrowRange(env, where, "add.q", "the conv's output quantization for its operand", "another");
    b.r_u8 = iov.IsUndefined() ? false : IsU8Nhwc(env, iov.As<Napi::Object>(), "r", where);
    b.nr = b.r_u8 ? (c.ny + 3) / 4 : c.ny;
  }
  // A u8 value's bytes fill a quarter of the floats its slot was sized for.
  b.nx = b.x_u8 ? (c.nx + 3) / 4 : c.nx;
  b.ny = b.y_u8 ? (c.ny + 3) / 4 : c.ny;
  return b;
}

}  // namespace resnode::napi
