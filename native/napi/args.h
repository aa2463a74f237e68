// Argument readers for the N-API entry points. TypeScript validates first;
// these are the cheap native checks that keep bad input from ever reaching the
// kernels. Each failure throws a JS TypeError or RangeError (as a Napi::Error
// C++ exception) whose message names the function, the argument, what was
// expected and what was received.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace resnode::napi {

// A Float32Array argument: its data pointer and element count.
struct F32 {
  float* data = nullptr;
  size_t length = 0;
  Napi::Object object;  // for Napi::Reference in async workers
};

[[noreturn]] void ThrowType(Napi::Env env, const std::string& where, const std::string& name,
                            const std::string& expected, const std::string& received);
[[noreturn]] void ThrowRange(Napi::Env env, const std::string& where, const std::string& name,
                             const std::string& expected, const std::string& received);

// A short description of a JS value for error messages ("a string", "-1", ...).
std::string Describe(const Napi::Value& v);

// [sync] The value-based readers (for arguments that are object properties or
// array elements); the Get* forms below read info[index] with the same checks.
F32 ToF32(Napi::Env env, const Napi::Value& v, const char* where, const char* name);
F32 ToF32OrNull(Napi::Env env, const Napi::Value& v, const char* where, const char* name);
bool ToBool(Napi::Env env, const Napi::Value& v, const char* where, const std::string& name);
Napi::Object ToObject(Napi::Env env, const Napi::Value& v, const char* where, const char* name);

// [sync] A non-detached Float32Array. Throws TypeError otherwise.
F32 GetF32(const Napi::CallbackInfo& info, size_t index, const char* where, const char* name);
// [sync] Like GetF32, but null or undefined give {nullptr, 0}.
F32 GetF32OrNull(const Napi::CallbackInfo& info, size_t index, const char* where,
                 const char* name);

// [sync] An integer in [lo, hi]. Throws TypeError for a non-number and
// RangeError for a non-integer or out-of-range value.
int64_t ToInt(Napi::Env env, const Napi::Value& v, const char* where, const std::string& name,
              int64_t lo, int64_t hi);
int64_t GetInt(const Napi::CallbackInfo& info, size_t index, const char* where, const char* name,
               int64_t lo, int64_t hi);
bool GetBool(const Napi::CallbackInfo& info, size_t index, const char* where, const char* name);

// [sync] Property `key` of object `o` as an array of exactly `count` integers in [lo, hi].
std::vector<int64_t> GetIntArray(Napi::Env env, const Napi::Object& o, const char* key,
                                 size_t count, const char* where, int64_t lo, int64_t hi);
int64_t GetIntProp(Napi::Env env, const Napi::Object& o, const char* key, const char* where,
                   int64_t lo, int64_t hi);
bool GetBoolProp(Napi::Env env, const Napi::Object& o, const char* key, const char* where);
Napi::Object GetObject(const Napi::CallbackInfo& info, size_t index, const char* where,
                       const char* name);

// [sync] Product of dims; RangeError if it overflows int64 or exceeds `limit`.
int64_t CheckedProduct(Napi::Env env, std::initializer_list<int64_t> dims, const char* where,
                       const char* name);

// [sync] RangeError unless `a.length >= need` (the tensor holds its dims).
void RequireLength(Napi::Env env, const F32& a, int64_t need, const char* where,
                   const char* name);

// Whether the first `na` floats of a and `nb` floats of b overlap (not counting, with
// allow_same, the very same range).
bool Overlap(const float* a, int64_t na, const float* b, int64_t nb, bool allow_same);

// [sync] RangeError if they overlap (Overlap above), the message `where: what`.
void RequireNoOverlap(Napi::Env env, const float* a, int64_t na, const float* b, int64_t nb,
                      bool allow_same, const char* where, const char* what);

// Largest dimension and thread count the native side accepts.
constexpr int64_t kMaxDim = int64_t(1) << 31;
constexpr int64_t kMaxThreads = 1024;

}  // namespace resnode::napi
