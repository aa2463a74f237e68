// float16ToFloat32 / float32ToFloat16: the conversions at a float16 model's
// inputs and outputs (src/model.ts), on the JS thread (they are one pass over
// the feeds, as the copy into the arena they replace is).
#include <string>

#include "../cpu/eltwise/half_convert.h"
#include "args.h"
#include "bindings.h"

namespace resnode::napi {
namespace {

struct U16 {
  const uint16_t* data = nullptr;
  int64_t length = 0;
};

U16 GetU16(const Napi::CallbackInfo& info, size_t index, const char* where, const char* name) {
  const Napi::Value v = info[index];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array)
    ThrowType(info.Env(), where, name, "a Uint16Array (float16 bit patterns)", Describe(v));
  const auto a = v.As<Napi::Uint16Array>();
  return {a.Data(), int64_t(a.ElementLength())};
}

}  // namespace

// [sync] float16ToFloat32(src: Uint16Array, dst: Float32Array)
// dst[i] = src[i] widened, for i < src.length. Throws TypeError for wrong types,
// RangeError when dst is shorter than src.
Napi::Value Float16ToFloat32(const Napi::CallbackInfo& info) {
  const char* where = "float16ToFloat32";
  const U16 src = GetU16(info, 0, where, "src");
  const F32 dst = GetF32(info, 1, where, "dst");
  RequireLength(info.Env(), dst, src.length, where, "dst");
  cpu::f16_to_f32(src.data, dst.data, src.length);
  return info.Env().Undefined();
}

// [sync] float32ToFloat16(src: Float32Array, dst: Uint16Array)
// dst[i] = src[i] rounded to the nearest float16 (ties to even), for i < src.length.
Napi::Value Float32ToFloat16(const Napi::CallbackInfo& info) {
  const char* where = "float32ToFloat16";
  const F32 src = GetF32(info, 0, where, "src");
  const Napi::Value dv = info[1];
  if (!dv.IsTypedArray() || dv.As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array)
    ThrowType(info.Env(), where, "dst", "a Uint16Array", Describe(dv));
  auto dst = dv.As<Napi::Uint16Array>();
  if (dst.ElementLength() < src.length)
    ThrowRange(info.Env(), where, "dst.length", "at least " + std::to_string(src.length), std::to_string(dst.ElementLength()));
  cpu::f32_to_f16(src.data, dst.Data(), int64_t(src.length));
  return info.Env().Undefined();
}

}  // namespace resnode::napi
