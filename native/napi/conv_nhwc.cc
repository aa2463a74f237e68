// packConv2dNhwc and the 'convNhwc' and 'reorder' plan steps (conv_nhwc.h): JS validated the
// graph; here every argument is checked once more, since a bad handle or shape would read out of
// bounds, and the steps then run pure C++.
#include "conv_nhwc.h"

#include <string>

#include "../cpu/isa.h"
#include "args.h"
#include "batons.h"
#include "bindings.h"
#include "packed.h"

namespace resnode::napi {

Napi::Value PackConv2dNhwc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* where = "packConv2dNhwc";
  const F32 weight = GetF32(info, 0, where, "weight");
  const F32 bias = GetF32OrNull(info, 1, where, "bias");
  const int64_t c_out = GetInt(info, 2, where, "cOut", 1, kMaxDim);
  const int64_t c_in = GetInt(info, 3, where, "cIn", 1, kMaxDim);
  const int64_t kh = GetInt(info, 4, where, "kh", 1, kMaxDim);
  const int64_t kw = GetInt(info, 5, where, "kw", 1, kMaxDim);
  RequireLength(env, weight, CheckedProduct(env, {c_out, c_in, kh, kw}, where, "weight"), where, "weight");
  if (!bias.object.IsEmpty()) RequireLength(env, bias, c_out, where, "bias");
  try {
    // The kernel is fixed here, for the ISA active now (as packConv2d fixes its own).
    auto p = std::make_shared<cpu::F32NhwcConvPacked>(
        cpu::f32_conv_nhwc_pack(cpu::active_isa(), weight.data, bias.data, c_out, c_in, kh, kw));
    return WrapPackedConvNhwc(env, std::move(p));
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "packConv2dNhwc: out of memory packing the weights");
  }
}

ConvNhwcBaton ParseConvNhwcParams(Napi::Env env, const Napi::Value& packed, const Napi::Value& pv, const char* where) {
  ConvNhwcBaton b;
  b.w = UnwrapPackedConvNhwc(env, packed, where);
  const cpu::F32NhwcConvPacked& w = *b.w;
  const ConvCall c = ReadConvCall(env, pv, where);
  RequireConvMatchesWeights(env, c.s, w.c_out, w.kh, w.kw, 1, w.c_in, where);
  if (c.has_f) ThrowRange(env, where, "p.act", "absent (an NHWC conv fuses only relu or clip)", "an activation");
  b.s = {c.s.n, c.s.h, c.s.w, c.s.c_in, c.s.kh, c.s.kw, c.s.stride_h, c.s.stride_w, c.s.dil_h, c.s.dil_w,
         c.s.pad_top, c.s.pad_left, c.s.out_h, c.s.out_w};
  b.act = c.act;
  b.threads = c.threads;
  b.nx = c.nx;
  b.ny = c.ny;
  try {
    b.ind = std::make_shared<const cpu::F32NhwcIndirection>(cpu::f32_conv_nhwc_indirection(w, b.s));
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, std::string(where) + ": out of memory building the indirection buffer");
  }
  return b;
}

ReorderBaton ParseReorderParams(Napi::Env env, const Napi::Object& o, const char* where) {
  ReorderBaton b;
  b.n = ToInt(env, o.Get("n"), where, "n", 1, kMaxDim);
  b.c = ToInt(env, o.Get("c"), where, "c", 1, kMaxDim);
  b.hw = ToInt(env, o.Get("hw"), where, "hw", 1, int64_t(1) << 40);
  CheckedProduct(env, {b.n, b.c, b.hw}, where, "n * c * hw");
  const Napi::Value to = o.Get("to");
  const std::string t = to.IsString() ? to.As<Napi::String>().Utf8Value() : "";
  if (t != "nhwc" && t != "nchw") ThrowRange(env, where, "to", "'nhwc' or 'nchw'", Describe(to));
  b.to_nhwc = t == "nhwc";
  b.threads = int(ToInt(env, o.Get("threads"), where, "threads", 0, kMaxThreads));
  b.isa = cpu::active_isa();
  b.kernel = cpu::f32_transpose_kernel(b.isa);
  return b;
}

const char* ReorderKernelName(const ReorderBaton& b) {
  const bool avx512 = b.kernel == cpu::f32_transpose_kernel(cpu::Isa::avx512) && b.isa == cpu::Isa::avx512;
  if (b.to_nhwc) return avx512 ? "f32_reorder_nchw_nhwc__avx512f" : "f32_reorder_nchw_nhwc__scalar";
  return avx512 ? "f32_reorder_nhwc_nchw__avx512f" : "f32_reorder_nhwc_nchw__scalar";
}

}  // namespace resnode::napi
