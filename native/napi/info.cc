// info / setIsa / setThreads.
#include <cstdlib>
#include <string>

#include "../cpu/bf16.h"
#include "../cpu/config.h"
#include "../cpu/isa.h"
#include "../cpu/ops.h"
#include "args.h"
#include "bindings.h"

namespace resnode::napi {

#ifndef RESNODE_CUDA
// Without the CUDA build, info().cuda says so. (With RESNODE_CUDA the CUDA
// engineer's native/napi/cuda.cc defines CudaInfo.)
Napi::Object CudaInfo(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("compiled", false);
  o.Set("available", false);
  return o;
}
#endif

// [sync] info()
// Params: none.
// Returns: { isa, detectedIsa, threads, defaultThreads, ukernel, cuda } where isa is
//   the path new packings use ('avx512f' | 'avx2' | 'scalar'), detectedIsa the best
//   one this CPU (capped by RESNODE_ISA) supports, threads the setThreads() value,
//   defaultThreads the core count, ukernel the active micro-kernel's name and cuda
//   { compiled, available, device? }, bf16 whether mode 'bf16' can run now (AVX512_BF16
//   present and not capped by RESNODE_ISA or setIsa) and, when it cannot, bf16Missing why;
//   vnni whether the CPU has AVX512_VNNI (vpdpbusd).
// Throws: nothing.
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", cpu::isa_name(cpu::active_isa()));
  o.Set("detectedIsa", cpu::isa_name(cpu::detected_isa()));
  o.Set("threads", cpu::global_threads());
  o.Set("defaultThreads", cpu::default_threads());
  o.Set("ukernel", cpu::gemm_config(cpu::active_isa()).ukernel_name);
  o.Set("bf16", cpu::bf16_available());
  o.Set("vnni", cpu::cpu_features().avx512_vnni);
  if (const char* why = cpu::bf16_unavailable_reason()) o.Set("bf16Missing", why);
  o.Set("cuda", CudaInfo(env));
  return o;
}

// [sync] setIsa(isa)
// Params: isa: 'avx512f' | 'avx512' | 'avx2' | 'scalar' | 'auto' ('auto' restores
//   the detected ISA). Affects weights packed afterwards; existing packed
//   handles keep the micro-kernel they were packed for.
// Returns: undefined.
// Throws: TypeError for a non-string or unknown name; Error if the CPU lacks the path.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Value v = info[0];
  const char* expected = "one of 'avx512f', 'avx2', 'scalar', 'auto'";
  if (!v.IsString()) ThrowType(env, "setIsa", "isa", expected, Describe(v));
  const std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "auto") {
    cpu::set_active_isa(cpu::detected_isa());
    return env.Undefined();
  }
  cpu::Isa isa;
  if (!cpu::parse_isa(s.c_str(), &isa)) ThrowType(env, "setIsa", "isa", expected, "\"" + s + "\"");
  if (isa > cpu::detected_isa()) {
    const char* cap = std::getenv("RESNODE_ISA");
    throw Napi::Error::New(env, "setIsa: the " + std::string(cpu::isa_name(isa)) +
                                    " path is not available (detected: " +
                                    cpu::isa_name(cpu::detected_isa()) +
                                    (cap ? std::string(", capped by RESNODE_ISA=") + cap : "") +
                                    ")");
  }
  cpu::set_active_isa(isa);
  return env.Undefined();
}

// [sync] setThreads(n)
// Params: n: integer in [1, 1024], the default thread count of every op (the
//   calling thread included).
// Returns: undefined.
// Throws: TypeError for a non-number; RangeError for a non-integer or out-of-range n.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const int64_t n = GetInt(info, 0, "setThreads", "n", 1, kMaxThreads);
  cpu::set_global_threads(int(n));
  return info.Env().Undefined();
}

}  // namespace resnode::napi

namespace resnode::napi {

// [sync] measurePeak(threads, kind = 'fp32'): number
// The fp32 FMA peak (GFLOP/s) of `threads` threads, each running a
// register-only FMA loop on the active ISA (best of ten runs of about 20 ms),
// with kind 'bf16' the vdpbf16ps peak (2 FLOPs per bf16 multiply-add), with kind 'vnni' the
// vpdpbusd peak (GOP/s, 2 int ops per u8 x s8 multiply-add). Blocks the caller.
// Params: threads: integer in [1, 1024]; kind: 'fp32' | 'bf16' | 'vnni' | undefined.
// Returns: GFLOP/s (GOP/s). Throws: TypeError/RangeError; Error for 'bf16' or 'vnni' where the
// CPU lacks it.
Napi::Value MeasurePeak(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t threads = GetInt(info, 0, "measurePeak", "threads", 1, kMaxThreads);
  std::string kind = "fp32";
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    kind = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    if (kind != "fp32" && kind != "bf16" && kind != "vnni")
      ThrowType(env, "measurePeak", "kind", "'fp32', 'bf16' or 'vnni'", Describe(info[1]));
  }
  if (kind == "fp32") return Napi::Number::New(env, cpu::measure_fma_peak_gflops(int(threads)));
  if (kind == "vnni") {
    if (!cpu::cpu_features().avx512_vnni)
      throw Napi::Error::New(env, "measurePeak: the vnni peak is not available: this CPU lacks AVX512_VNNI (vpdpbusd)");
    return Napi::Number::New(env, cpu::measure_vnni_peak_gops(int(threads)));
  }
  if (!cpu::bf16_available())
    throw Napi::Error::New(env, std::string("measurePeak: the bf16 peak is not available: ") +
                                    cpu::bf16_unavailable_reason());
  return Napi::Number::New(env, cpu::measure_bf16_peak_gflops(int(threads)));
}

}  // namespace resnode::napi
