// stats(): native resource counters (issue 7: "native buffer counters show no leaks").
#include "stats.h"

#include "../cpu/common.h"
#include "args.h"
#include "bindings.h"
#include "packed.h"
#include "plan.h"

namespace resnode::napi {

Counters& counters() {
  static Counters c;  // never destroyed before a late finalizer can touch it (trivial dtor)
  return c;
}

// [sync] stats(): { packedHandles, packedBytes, asyncInFlight, scratchBytes }
// Process-wide counters (all environments, worker_threads included).
// Returns: packedHandles: packed-weight handles made by packConv2d/packGemm and
//   neither collected nor released; packedBytes: their bytes; asyncInFlight:
//   async ops (and runPlan calls) queued or running; scratchBytes: per-thread
//   kernel scratch currently held (it grows and is kept for reuse; threads
//   that exit free theirs).
// Throws: nothing.
Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Counters& c = counters();
  Napi::Object o = Napi::Object::New(env);
  o.Set("packedHandles", Napi::Number::New(env, double(c.packed_handles.load())));
  o.Set("packedBytes", Napi::Number::New(env, double(c.packed_bytes.load())));
  o.Set("asyncInFlight", Napi::Number::New(env, double(c.async_in_flight.load())));
  o.Set("scratchBytes", Napi::Number::New(env, double(cpu::scratch_bytes())));
  return o;
}

}  // namespace resnode::napi

namespace resnode::napi {

// [sync] release(handle)
// Drops the native object behind a handle now instead of at garbage collection:
// the packed weights of a packConv2d/packGemm handle, or a createPlan plan.
// Idempotent. Later use of the handle throws TypeError ("... has been
// released"); async runs already in flight keep their own reference and finish.
// Params: handle: a handle from packConv2d, packGemm or createPlan.
// Returns: undefined.
// Throws: TypeError for any other value.
Napi::Value Release(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ReleasePacked(env, info[0]) && !ReleasePlan(env, info[0]))
    ThrowType(env, "release", "handle",
              "a handle returned by packConv2d, packGemm or createPlan", Describe(info[0]));
  return env.Undefined();
}

}  // namespace resnode::napi
