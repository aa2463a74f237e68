#include "packed.h"

#include "args.h"
#include "stats.h"

namespace resnode::napi {
namespace {

// Random 128-bit tags: a handle from another addon (or of the other kind) never matches.
constexpr napi_type_tag kConvTag = {0x7a3c91e2d4b5f608ULL, 0x9e1f2a3b4c5d6e7fULL};
constexpr napi_type_tag kGemmTag = {0x1b2c3d4e5f607182ULL, 0x93a4b5c6d7e8f901ULL};
constexpr napi_type_tag kQConvTag = {0x5d8e2f71a3c4b906ULL, 0x2c7b9e01f4d3a815ULL};
constexpr napi_type_tag kConvNhwcTag = {0x3e61b7d90c2a4f85ULL, 0xa85f1c3e7d29b604ULL};

template <typename T>
struct Holder {
  std::shared_ptr<T> ptr;  // null once released
  int64_t bytes;

  // Drops the weights (JS thread only). `env` may be mid-teardown.
  void Drop(Napi::Env env) {
    if (!ptr) return;
    ptr.reset();
    counters().packed_handles.fetch_sub(1);
    counters().packed_bytes.fetch_sub(bytes);
    try {
      Napi::MemoryManagement::AdjustExternalMemory(env, -bytes);
    } catch (...) {  // environment teardown
    }
  }
};

// The packed weights live outside the JS heap; telling V8 their size makes it
// collect dropped handles (and so free the weights) as promptly as it would
// the same amount of JS memory.
template <typename T>
Napi::Value Wrap(Napi::Env env, std::shared_ptr<T> p, const napi_type_tag* tag) {
  const int64_t bytes = int64_t(p->bytes());
  auto* h = new Holder<T>{std::move(p), bytes};
  counters().packed_handles.fetch_add(1);
  counters().packed_bytes.fetch_add(bytes);
  auto ext = Napi::External<Holder<T>>::New(env, h, [](Napi::Env e, Holder<T>* hh) {
    hh->Drop(e);
    delete hh;
  });
  ext.TypeTag(tag);
  Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  return ext;
}

template <typename T>
bool Is(const Napi::Value& v, const napi_type_tag* tag) {
  return v.IsExternal() && v.As<Napi::External<Holder<T>>>().CheckTypeTag(tag);
}

template <typename T>
std::shared_ptr<T> Unwrap(Napi::Env env, const Napi::Value& v, const char* where,
                          const napi_type_tag* tag, const char* what) {
  if (!Is<T>(v, tag)) ThrowType(env, where, "packed", what, Describe(v));
  std::shared_ptr<T> p = v.As<Napi::External<Holder<T>>>().Data()->ptr;
  if (!p)
    throw Napi::TypeError::New(env, std::string(where) +
                                        ": packed is a handle that has been released");
  return p;
}

}  // namespace

Napi::Value WrapPackedConv(Napi::Env env, std::shared_ptr<cpu::PackedConv> p) {
  return Wrap(env, std::move(p), &kConvTag);
}

Napi::Value WrapPackedGemm(Napi::Env env, std::shared_ptr<cpu::PackedGemm> p) {
  return Wrap(env, std::move(p), &kGemmTag);
}

std::shared_ptr<cpu::PackedConv> UnwrapPackedConv(Napi::Env env, const Napi::Value& v,
                                                  const char* where) {
  return Unwrap<cpu::PackedConv>(env, v, where, &kConvTag, "a handle returned by packConv2d");
}

std::shared_ptr<cpu::PackedGemm> UnwrapPackedGemm(Napi::Env env, const Napi::Value& v,
                                                  const char* where) {
  return Unwrap<cpu::PackedGemm>(env, v, where, &kGemmTag, "a handle returned by packGemm");
}

Napi::Value WrapPackedQConv(Napi::Env env, std::shared_ptr<cpu::Qu8ConvPacked> p) {
  return Wrap(env, std::move(p), &kQConvTag);
}

std::shared_ptr<cpu::Qu8ConvPacked> UnwrapPackedQConv(Napi::Env env, const Napi::Value& v,
                                                     const char* where) {
  return Unwrap<cpu::Qu8ConvPacked>(env, v, where, &kQConvTag, "a handle returned by packQConv2d");
}

Napi::Value WrapPackedConvNhwc(Napi::Env env, std::shared_ptr<cpu::F32NhwcConvPacked> p) {
  return Wrap(env, std::move(p), &kConvNhwcTag);
}

std::shared_ptr<cpu::F32NhwcConvPacked> UnwrapPackedConvNhwc(Napi::Env env, const Napi::Value& v, const char* where) {
  return Unwrap<cpu::F32NhwcConvPacked>(env, v, where, &kConvNhwcTag, "a handle returned by packConv2dNhwc");
}

bool ReleasePacked(Napi::Env env, const Napi::Value& v) {
  if (Is<cpu::F32NhwcConvPacked>(v, &kConvNhwcTag)) {
    v.As<Napi::External<Holder<cpu::F32NhwcConvPacked>>>().Data()->Drop(env);
    return true;
  }
  if (Is<cpu::Qu8ConvPacked>(v, &kQConvTag)) {
    v.As<Napi::External<Holder<cpu::Qu8ConvPacked>>>().Data()->Drop(env);
    return true;
  }
  if (Is<cpu::PackedConv>(v, &kConvTag)) {
    v.As<Napi::External<Holder<cpu::PackedConv>>>().Data()->Drop(env);
    return true;
  }
  if (Is<cpu::PackedGemm>(v, &kGemmTag)) {
    v.As<Napi::External<Holder<cpu::PackedGemm>>>().Data()->Drop(env);
    return true;
  }
  return false;
}

}  // namespace resnode::napi
