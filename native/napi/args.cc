#include "args.h"

#include <cmath>
#include <sstream>

namespace resnode::napi {

[[noreturn]] void ThrowType(Napi::Env env, const std::string& where, const std::string& name,
                            const std::string& expected, const std::string& received) {
  throw Napi::TypeError::New(
      env, where + ": expected " + expected + " for " + name + " but received " + received);
}

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& where, const std::string& name,
                             const std::string& expected, const std::string& received) {
  throw Napi::RangeError::New(
      env, where + ": expected " + expected + " for " + name + " but received " + received);
}

std::string Describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN";
    std::ostringstream s;
    s << d;
    return s.str();
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsString()) return "a string";
  if (v.IsTypedArray()) {
    static const char* names[] = {"Int8Array",    "Uint8Array",   "Uint8ClampedArray",
                                  "Int16Array",   "Uint16Array",  "Int32Array",
                                  "Uint32Array",  "Float32Array", "Float64Array",
                                  "BigInt64Array", "BigUint64Array"};
    auto t = v.As<Napi::TypedArray>();
    const int type = int(t.TypedArrayType());
    std::string name = type >= 0 && type < 11 ? names[type] : "TypedArray";
    return "a " + name + " of length " + std::to_string(t.ElementLength());
  }
  if (v.IsArray()) return "an array of length " + std::to_string(v.As<Napi::Array>().Length());
  if (v.IsFunction()) return "a function";
  if (v.IsExternal()) return "an external";
  if (v.IsObject()) return "an object";
  return "a value";
}

F32 ToF32(Napi::Env env, const Napi::Value& v, const char* where, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    ThrowType(env, where, name, "a Float32Array", Describe(v));
  auto arr = v.As<Napi::Float32Array>();
  if (arr.ArrayBuffer().IsDetached())
    ThrowType(env, where, name, "a Float32Array with a live buffer", "a detached buffer");
  F32 out;
  out.length = arr.ElementLength();
  out.data = out.length ? arr.Data() : nullptr;
  out.object = arr;
  return out;
}

F32 ToF32OrNull(Napi::Env env, const Napi::Value& v, const char* where, const char* name) {
  if (v.IsNull() || v.IsUndefined()) return F32{};
  return ToF32(env, v, where, name);
}

bool ToBool(Napi::Env env, const Napi::Value& v, const char* where, const std::string& name) {
  if (!v.IsBoolean()) ThrowType(env, where, name, "a boolean", Describe(v));
  return v.As<Napi::Boolean>().Value();
}

Napi::Object ToObject(Napi::Env env, const Napi::Value& v, const char* where, const char* name) {
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray())
    ThrowType(env, where, name, "an object", Describe(v));
  return v.As<Napi::Object>();
}

F32 GetF32(const Napi::CallbackInfo& info, size_t index, const char* where, const char* name) {
  return ToF32(info.Env(), info[index], where, name);
}

F32 GetF32OrNull(const Napi::CallbackInfo& info, size_t index, const char* where,
                 const char* name) {
  return ToF32OrNull(info.Env(), info[index], where, name);
}

int64_t ToInt(Napi::Env env, const Napi::Value& v, const char* where, const std::string& name,
              int64_t lo, int64_t hi) {
  const std::string expected =
      "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (!v.IsNumber()) ThrowType(env, where, name, expected, Describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= double(lo) && d <= double(hi)) || d != std::floor(d))
    ThrowRange(env, where, name, expected, Describe(v));
  return int64_t(d);
}

int64_t GetInt(const Napi::CallbackInfo& info, size_t index, const char* where, const char* name,
               int64_t lo, int64_t hi) {
  return ToInt(info.Env(), info[index], where, name, lo, hi);
}

bool GetBool(const Napi::CallbackInfo& info, size_t index, const char* where, const char* name) {
  return ToBool(info.Env(), info[index], where, name);
}

Napi::Object GetObject(const Napi::CallbackInfo& info, size_t index, const char* where,
                       const char* name) {
  return ToObject(info.Env(), info[index], where, name);
}

std::vector<int64_t> GetIntArray(Napi::Env env, const Napi::Object& o, const char* key,
                                 size_t count, const char* where, int64_t lo, int64_t hi) {
  const Napi::Value v = o.Get(key);
  const std::string name = std::string("p.") + key;
  if (!v.IsArray())
    ThrowType(env, where, name, "an array of " + std::to_string(count) + " integers",
              Describe(v));
  auto arr = v.As<Napi::Array>();
  if (arr.Length() != count)
    ThrowRange(env, where, name, "an array of " + std::to_string(count) + " integers",
               Describe(v));
  std::vector<int64_t> out(count);
  for (uint32_t i = 0; i < count; ++i)
    out[i] = ToInt(env, arr.Get(i), where, name + "[" + std::to_string(i) + "]", lo, hi);
  return out;
}

int64_t GetIntProp(Napi::Env env, const Napi::Object& o, const char* key, const char* where,
                   int64_t lo, int64_t hi) {
  return ToInt(env, o.Get(key), where, std::string("p.") + key, lo, hi);
}

bool GetBoolProp(Napi::Env env, const Napi::Object& o, const char* key, const char* where) {
  return ToBool(env, o.Get(key), where, std::string("p.") + key);
}

int64_t CheckedProduct(Napi::Env env, std::initializer_list<int64_t> dims, const char* where,
                       const char* name) {
  int64_t p = 1;
  for (int64_t d : dims) {
    // Typed arrays hold at most 2^53 elements; anything near int64 is absurd.
    if (d < 0 || __builtin_mul_overflow(p, d, &p) || p > (int64_t(1) << 53))
      ThrowRange(env, where, name, "a tensor size below 2^53 elements", "dims that overflow it");
  }
  return p;
}

void RequireLength(Napi::Env env, const F32& a, int64_t need, const char* where,
                   const char* name) {
  if (int64_t(a.length) < need)
    ThrowRange(env, where, std::string(name) + ".length",
               "at least " + std::to_string(need) + " elements (the product of its dims)",
               std::to_string(a.length));
}

bool Overlap(const float* a, int64_t na, const float* b, int64_t nb, bool allow_same) {
  if (!a || !b || na <= 0 || nb <= 0) return false;
  if (allow_same && a == b && na == nb) return false;
  const auto a0 = reinterpret_cast<uintptr_t>(a), b0 = reinterpret_cast<uintptr_t>(b);
  const uintptr_t a1 = a0 + uintptr_t(na) * 4, b1 = b0 + uintptr_t(nb) * 4;
  return a0 < b1 && b0 < a1;
}

void RequireNoOverlap(Napi::Env env, const float* a, int64_t na, const float* b, int64_t nb,
                      bool allow_same, const char* where, const char* what) {
  if (Overlap(a, na, b, nb, allow_same)) throw Napi::RangeError::New(env, std::string(where) + ": " + what);
}

}  // namespace resnode::napi
