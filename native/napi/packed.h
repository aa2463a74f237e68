// Packed-weight handles: a type-tagged Napi::External that owns a
// std::shared_ptr to the packed weights. Async runs copy the shared_ptr (and
// hold a reference to the JS handle), so the weights outlive the run even if
// the handle is collected or released meanwhile. release() drops the handle's
// shared_ptr early; a released handle then throws when used.
#pragma once
#include <napi.h>

#include <memory>

#include "../cpu/pack.h"
#include "../cpu/igemm/f32_conv2d_nhwc.h"
#include "../cpu/qgemm/qu8_conv2d_nhwc.h"

namespace resnode::napi {

// [sync] Wraps packed conv weights in a JS handle (finalizer frees them).
Napi::Value WrapPackedConv(Napi::Env env, std::shared_ptr<cpu::PackedConv> p);
// [sync] Wraps packed FC weights in a JS handle.
Napi::Value WrapPackedGemm(Napi::Env env, std::shared_ptr<cpu::PackedGemm> p);

// [sync] Wraps packed int8 conv weights (packQConv2d) in a JS handle.
Napi::Value WrapPackedQConv(Napi::Env env, std::shared_ptr<cpu::Qu8ConvPacked> p);
std::shared_ptr<cpu::Qu8ConvPacked> UnwrapPackedQConv(Napi::Env env, const Napi::Value& v,
                                                     const char* where);

// [sync] Wraps float32 NHWC conv weights (packConv2dNhwc) in a JS handle.
Napi::Value WrapPackedConvNhwc(Napi::Env env, std::shared_ptr<cpu::F32NhwcConvPacked> p);
std::shared_ptr<cpu::F32NhwcConvPacked> UnwrapPackedConvNhwc(Napi::Env env, const Napi::Value& v, const char* where);

// [sync] The packed weights behind `v`. Throws TypeError unless it is a handle
// made by packConv2d (resp. packGemm) of this addon and not released.
std::shared_ptr<cpu::PackedConv> UnwrapPackedConv(Napi::Env env, const Napi::Value& v,
                                                  const char* where);
std::shared_ptr<cpu::PackedGemm> UnwrapPackedGemm(Napi::Env env, const Napi::Value& v,
                                                  const char* where);
inline std::shared_ptr<cpu::PackedConv> UnwrapPackedConv(const Napi::CallbackInfo& info,
                                                         size_t index, const char* where) {
  return UnwrapPackedConv(info.Env(), info[index], where);
}
inline std::shared_ptr<cpu::PackedGemm> UnwrapPackedGemm(const Napi::CallbackInfo& info,
                                                         size_t index, const char* where) {
  return UnwrapPackedGemm(info.Env(), info[index], where);
}

// [sync] If `v` is a packed handle of this addon, drops its weights now and
// returns true (idempotent); false for any other value.
bool ReleasePacked(Napi::Env env, const Napi::Value& v);

}  // namespace resnode::napi
