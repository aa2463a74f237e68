// Parsing of the quantized pooling plan steps (see qpool.h).
#include "qpool.h"

#include <cmath>
#include <string>

#include "args.h"
#include "batons.h"

namespace resnode::napi {

Qu8MaxPoolBaton ParseQu8MaxPool(Napi::Env env, const Napi::Value& p, const char* where) {
  const PoolCall c = ReadPoolCall(env, p, where);
  if (!cpu::every_window_has_a_tap(c.s))
    ThrowRange(env, where, "p.pads", "pads that leave a tap of every window inside the input", "pads past a whole window");
  Qu8MaxPoolBaton b;
  b.s = c.s;
  b.threads = c.threads;
  b.nx = (c.nx + 3) / 4;  // u8: bytes in float slots
  b.ny = (c.ny + 3) / 4;
  const cpu::Isa isa = cpu::active_isa();
  b.kernel = cpu::qu8_maxpool_kernel(isa);
  b.kernel_name = cpu::qu8_maxpool_kernel_name(isa);
  return b;
}

QGapBaton ParseQGap(Napi::Env env, const Napi::Object& o, const char* where) {
  QGapBaton b;
  b.n = ToInt(env, o.Get("n"), where, "n", 1, kMaxDim);
  b.c = ToInt(env, o.Get("c"), where, "c", 1, kMaxDim);
  b.hw = ToInt(env, o.Get("hw"), where, "hw", 1, int64_t(1) << 23);  // int32 sums of 255 · hw stay exact in float32
  b.x_u8 = ToBool(env, o.Get("u8"), where, "u8");
  const Napi::Object q = ToObject(env, o.Get("q"), where, "q");
  auto positive = [&](const char* key) {
    const Napi::Value v = q.Get(key);
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(d > 0) || !std::isfinite(float(d))) ThrowRange(env, where, std::string("q.") + key, "a positive finite float32", Describe(v));
    return float(d);
  };
  b.q.x_scale = positive("xScale");
  b.q.multiplier = positive("multiplier");
  b.q.y_scale = positive("yScale");
  b.q.x_zero_point = int32_t(GetIntProp(env, q, "xZeroPoint", where, 0, 255));
  b.q.qmin = int32_t(GetIntProp(env, q, "qmin", where, -128, 255));
  b.q.qmax = int32_t(GetIntProp(env, q, "qmax", where, b.q.qmin, 255));
  b.q.y_zero_point = int32_t(GetIntProp(env, q, "yZeroPoint", where, -128, 255));
  const int64_t values = CheckedProduct(env, {b.n, b.c, b.hw}, where, "x");
  b.nx = b.x_u8 ? (values + 3) / 4 : values;
  b.ny = CheckedProduct(env, {b.n, b.c}, where, "y");
  const cpu::Isa isa = cpu::active_isa();
  b.sum = cpu::qu8_gavgpool_sum_kernel(isa);
  b.kernel_name = b.x_u8 ? cpu::qu8_gavgpool_sum_kernel_name(isa) : "";
  return b;
}

}  // namespace resnode::napi
