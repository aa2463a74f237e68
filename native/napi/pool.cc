// maxPool / averagePool / globalAveragePool (sync and async).
#include <string>

#include "../cpu/ops.h"
#include "args.h"
#include "batons.h"
#include "bindings.h"
#include "worker.h"

namespace resnode::napi {

PoolCall ReadPoolCall(Napi::Env env, const Napi::Value& pv, const char* where) {
  const Napi::Object p = ToObject(env, pv, where, "p");
  const auto in = GetIntArray(env, p, "inputDims", 4, where, 1, kMaxDim);
  const auto k = GetIntArray(env, p, "kernel", 2, where, 1, kMaxDim);
  const auto st = GetIntArray(env, p, "strides", 2, where, 1, kMaxDim);
  const auto pads = GetIntArray(env, p, "pads", 4, where, 0, kMaxDim);
  const auto dil = GetIntArray(env, p, "dilations", 2, where, 1, kMaxDim);
  const auto out = GetIntArray(env, p, "outDims", 2, where, 1, kMaxDim);
  PoolCall c;
  c.threads = int(GetIntProp(env, p, "threads", where, 0, kMaxThreads));
  const Napi::Value nhwc = p.Get("nhwc");
  c.nhwc = !nhwc.IsUndefined() && ToBool(env, nhwc, where, "p.nhwc");
  cpu::Pool2dShape& s = c.s;
  s.n = in[0];
  s.c = in[1];
  s.h = in[2];
  s.w = in[3];
  s.kh = k[0];
  s.kw = k[1];
  s.stride_h = st[0];
  s.stride_w = st[1];
  s.dil_h = dil[0];
  s.dil_w = dil[1];
  s.pad_top = pads[0];
  s.pad_left = pads[1];
  s.pad_bottom = pads[2];
  s.pad_right = pads[3];
  // The largest extent (ceil_mode's); floor mode's is at most one less.
  const int64_t mh = cpu::window_output_size(s.h, s.kh, s.stride_h, s.dil_h, s.pad_top, s.pad_bottom, true);
  const int64_t mw = cpu::window_output_size(s.w, s.kw, s.stride_w, s.dil_w, s.pad_left, s.pad_right, true);
  if (out[0] > mh || out[1] > mw)
    ThrowRange(env, where, "p.outDims",
               "at most [" + std::to_string(mh) + ", " + std::to_string(mw) +
                   "] (from input dims, kernel, strides, pads and dilations)",
               "[" + std::to_string(out[0]) + ", " + std::to_string(out[1]) + "]");
  s.out_h = out[0];
  s.out_w = out[1];
  c.nx = CheckedProduct(env, {s.n, s.c, s.h, s.w}, where, "x");
  c.ny = CheckedProduct(env, {s.n, s.c, s.out_h, s.out_w}, where, "y");
  return c;
}

PoolBaton ParsePoolParams(Napi::Env env, const Napi::Value& pv, const Napi::Value& cip,
                          bool average, const char* where) {
  PoolBaton b;
  b.average = average;
  ToObject(env, pv, where, "p");  // argument order of the checks: p, then countIncludePad
  if (average) b.count_include_pad = ToBool(env, cip, where, "countIncludePad");
  const PoolCall c = ReadPoolCall(env, pv, where);
  b.s = c.s;
  b.threads = c.threads;
  b.nx = c.nx;
  b.ny = c.ny;
  b.nhwc = c.nhwc;
  b.isa = cpu::active_isa();  // fixed now: a plan keeps it even if setIsa() changes later
  return b;
}

void BindPool(Napi::Env env, PoolBaton& b, const F32& x, const F32& y, const char* where) {
  RequireLength(env, x, b.nx, where, "x");
  RequireLength(env, y, b.ny, where, "y");
  RequireNoOverlap(env, y.data, b.ny, x.data, b.nx, false, where, "y must not overlap x");
  b.x = x.data;
  b.y = y.data;
}

GapBaton ParseGapParams(Napi::Env env, const Napi::Value& n, const Napi::Value& c,
                        const Napi::Value& hw, const Napi::Value& threads, const Napi::Value& nhwc,
                        const char* where) {
  GapBaton b;
  b.n = ToInt(env, n, where, "n", 1, kMaxDim);
  b.c = ToInt(env, c, where, "c", 1, kMaxDim);
  b.hw = ToInt(env, hw, where, "hw", 1, kMaxDim);
  b.threads = int(ToInt(env, threads, where, "threads", 0, kMaxThreads));
  b.nhwc = !nhwc.IsUndefined() && ToBool(env, nhwc, where, "nhwc");
  b.nx = CheckedProduct(env, {b.n, b.c, b.hw}, where, "x");
  b.ny = CheckedProduct(env, {b.n, b.c}, where, "y");
  b.isa = cpu::active_isa();  // fixed now, as for the other pools
  return b;
}

void BindGap(Napi::Env env, GapBaton& b, const F32& x, const F32& y, const char* where) {
  RequireLength(env, x, b.nx, where, "x");
  RequireLength(env, y, b.ny, where, "y");
  RequireNoOverlap(env, y.data, b.ny, x.data, b.nx, false, where, "y must not overlap x");
  b.x = x.data;
  b.y = y.data;
}

namespace {

// (x, y, p[, countIncludePad])
PoolBaton ParsePool(const Napi::CallbackInfo& info, const char* where, bool average) {
  Napi::Env env = info.Env();
  const F32 x = GetF32(info, 0, where, "x");
  const F32 y = GetF32(info, 1, where, "y");
  PoolBaton b = ParsePoolParams(env, info[2], info[3], average, where);
  BindPool(env, b, x, y, where);
  return b;
}

// (x, y, n, c, hw, threads[, nhwc])
GapBaton ParseGap(const Napi::CallbackInfo& info, const char* where) {
  Napi::Env env = info.Env();
  const F32 x = GetF32(info, 0, where, "x");
  const F32 y = GetF32(info, 1, where, "y");
  GapBaton b = ParseGapParams(env, info[2], info[3], info[4], info[5], info[6], where);
  BindGap(env, b, x, y, where);
  return b;
}

}  // namespace

// [sync] maxPoolSync(x, y, p)
// Params: x: Float32Array [n, c, h, w]; y: Float32Array [n, c, outH, outW], written;
//   p: NativePoolParams (outDims already include ceil_mode; p.nhwc: x and y are
//   NHWC, [n, h, w, c] and [n, outH, outW, c]). Windows with no input element
//   give -FLT_MAX, as ONNX Runtime does.
// Returns: undefined.
// Throws: TypeError for wrong types or a detached buffer; RangeError for bad
//   dims, outDims beyond the ceil_mode extent, short arrays or y overlapping x.
Napi::Value MaxPoolSync(const Napi::CallbackInfo& info) {
  PoolBaton b = ParsePool(info, "maxPoolSync", false);
  RunBatonSync(info.Env(), b);
  return info.Env().Undefined();
}

// [async] maxPool(x, y, p): Promise<void>. As maxPoolSync, on the libuv pool.
// Throws: synchronously as maxPoolSync; rejects with Error if the run fails.
Napi::Value MaxPoolAsync(const Napi::CallbackInfo& info) {
  PoolBaton b = ParsePool(info, "maxPool", false);
  return QueueBaton(info.Env(), std::move(b), {info[0], info[1]});
}

// [sync] averagePoolSync(x, y, p, countIncludePad)
// Params: as maxPoolSync; countIncludePad: boolean. With it, the divisor counts
//   padding taps inside the padded extent (the ceil_mode overhang excluded), as
//   ONNX AveragePool defines it; without it, only in-bounds taps.
// Returns: undefined.
// Throws: as maxPoolSync, plus TypeError for a non-boolean countIncludePad.
Napi::Value AveragePoolSync(const Napi::CallbackInfo& info) {
  PoolBaton b = ParsePool(info, "averagePoolSync", true);
  RunBatonSync(info.Env(), b);
  return info.Env().Undefined();
}

// [async] averagePool(x, y, p, countIncludePad): Promise<void>. As averagePoolSync.
// Throws: synchronously as averagePoolSync; rejects with Error if the run fails.
Napi::Value AveragePoolAsync(const Napi::CallbackInfo& info) {
  PoolBaton b = ParsePool(info, "averagePool", true);
  return QueueBaton(info.Env(), std::move(b), {info[0], info[1]});
}

// [sync] globalAveragePoolSync(x, y, n, c, hw, threads[, nhwc])
// Params: x: Float32Array [n, c, hw] ([n, hw, c] when nhwc); y: Float32Array [n, c], written;
//   n, c, hw: positive integers; threads: 0 = setThreads() value; nhwc: boolean (default false).
// Returns: undefined.
// Throws: TypeError for wrong types or a detached buffer; RangeError for bad
//   sizes, short arrays or y overlapping x.
Napi::Value GlobalAveragePoolSync(const Napi::CallbackInfo& info) {
  GapBaton b = ParseGap(info, "globalAveragePoolSync");
  RunBatonSync(info.Env(), b);
  return info.Env().Undefined();
}

// [async] globalAveragePool(x, y, n, c, hw, threads[, nhwc]): Promise<void>.
// Throws: synchronously as globalAveragePoolSync; rejects with Error if the run fails.
Napi::Value GlobalAveragePoolAsync(const Napi::CallbackInfo& info) {
  GapBaton b = ParseGap(info, "globalAveragePool");
  return QueueBaton(info.Env(), std::move(b), {info[0], info[1]});
}

}  // namespace resnode::napi
