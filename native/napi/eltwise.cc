// addSync / add.
#include <string>

#include "../cpu/ops.h"
#include "args.h"
#include "batons.h"
#include "bindings.h"
#include "worker.h"

namespace resnode::napi {

AddBaton ParseAddParams(Napi::Env env, const Napi::Value& relu, const Napi::Value& threads,
                        const char* where) {
  AddBaton t;
  t.relu = ToBool(env, relu, where, "relu");
  t.threads = int(ToInt(env, threads, where, "threads", 0, kMaxThreads));
  t.isa = cpu::active_isa();
  return t;
}

void BindAdd(Napi::Env env, AddBaton& t, const F32& a, const F32& b, const F32& y,
             const char* where) {
  RequireLength(env, a, t.count, where, "a");
  RequireLength(env, b, t.count, where, "b");
  RequireLength(env, y, t.count, where, "y");
  // Element-wise: y may be a or b itself, but not a shifted view of them.
  RequireNoOverlap(env, y.data, t.count, a.data, t.count, true, where,
                   "y overlaps a (it may only be the very same buffer)");
  RequireNoOverlap(env, y.data, t.count, b.data, t.count, true, where,
                   "y overlaps b (it may only be the very same buffer)");
  t.a = a.data;
  t.b = b.data;
  t.y = y.data;
}

namespace {

// (a, b, y, relu, threads)
AddBaton ParseAdd(const Napi::CallbackInfo& info, const char* where) {
  Napi::Env env = info.Env();
  const F32 a = GetF32(info, 0, where, "a");
  const F32 b = GetF32(info, 1, where, "b");
  const F32 y = GetF32(info, 2, where, "y");
  AddBaton t = ParseAddParams(env, info[3], info[4], where);
  if (b.length != a.length)
    ThrowRange(env, where, "b.length", "a.length (" + std::to_string(a.length) + ")",
               std::to_string(b.length));
  t.count = int64_t(a.length);
  BindAdd(env, t, a, b, y, where);
  return t;
}

}  // namespace

// [sync] addSync(a, b, y, relu, threads)
// y = relu?(a + b), element-wise over a.length elements.
// Params: a, b: Float32Array of the same length; y: Float32Array (at least that
//   long; may be a or b itself), written; relu: boolean; threads: 0 = setThreads() value.
// Returns: undefined.
// Throws: TypeError for wrong types or a detached buffer; RangeError for
//   mismatched lengths or a partial overlap of y with a or b.
Napi::Value AddSync(const Napi::CallbackInfo& info) {
  AddBaton b = ParseAdd(info, "addSync");
  RunBatonSync(info.Env(), b);
  return info.Env().Undefined();
}

// [async] add(a, b, y, relu, threads): Promise<void>. As addSync, on the libuv pool.
// Throws: synchronously as addSync; rejects with Error if the run fails.
Napi::Value AddAsync(const Napi::CallbackInfo& info) {
  AddBaton b = ParseAdd(info, "add");
  return QueueBaton(info.Env(), std::move(b), {info[0], info[1], info[2]});
}

}  // namespace resnode::napi
