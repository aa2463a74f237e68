// Parameter checks of the elementwise, layout and normalisation plan steps (steps.h).
#include "steps.h"

#include <algorithm>
#include <cmath>

#include "args.h"

namespace resnode::napi {
namespace {

constexpr int64_t kMaxCount = int64_t(1) << 53;
constexpr size_t kMaxRank = 16;

std::vector<int64_t> IntList(Napi::Env env, const Napi::Object& o, const char* key, size_t min_len,
                             size_t max_len, const char* where, int64_t lo, int64_t hi) {
  const Napi::Value v = o.Get(key);
  const std::string want = "an array of " + std::to_string(min_len) + " to " + std::to_string(max_len) + " integers";
  if (!v.IsArray()) ThrowType(env, where, key, want, Describe(v));
  const auto arr = v.As<Napi::Array>();
  if (arr.Length() < min_len || arr.Length() > max_len) ThrowRange(env, where, key, want, Describe(v));
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i)
    out[i] = ToInt(env, arr.Get(i), where, std::string(key) + "[" + std::to_string(i) + "]", lo, hi);
  return out;
}

float FloatProp(Napi::Env env, const Napi::Object& o, const char* key, const char* where, bool finite) {
  const Napi::Value v = o.Get(key);
  if (!v.IsNumber()) ThrowType(env, where, key, "a number", Describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (std::isnan(d) || (finite && !std::isfinite(d)))
    ThrowRange(env, where, key, finite ? "a finite number" : "a number (±Infinity allowed)", Describe(v));
  return float(d);
}

int64_t Product(Napi::Env env, const std::vector<int64_t>& dims, const char* where, const char* name) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (p > kMaxCount / d) ThrowRange(env, where, name, "at most 2^53 elements", "more");
    p *= d;
  }
  return p;
}

// Floats an operand read with these strides spans: 1 + Σ (dims[d] − 1)·strides[d] (strides ≥ 0).
int64_t Span(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides) {
  int64_t s = 1;
  for (size_t d = 0; d < dims.size(); ++d) s += (dims[d] - 1) * strides[d];
  return s;
}

int Threads(Napi::Env env, const Napi::Object& o, const char* where) {
  return int(ToInt(env, o.Get("threads"), where, "threads", 1, kMaxThreads));
}

}  // namespace

UnaryBaton ParseUnaryStep(Napi::Env env, const Napi::Object& o, const char* where, StepNeeds& need) {
  static const char* kFns[] = {"sigmoid", "silu", "hardSigmoid", "hardSwish", "clip", "erf", "gelu"};
  const Napi::Value fv = o.Get("fn");
  const std::string fn = fv.IsString() ? fv.As<Napi::String>().Utf8Value() : "";
  const auto it = std::find(std::begin(kFns), std::end(kFns), fn);
  if (it == std::end(kFns))
    ThrowType(env, where, "fn", "one of 'sigmoid', 'silu', 'hardSigmoid', 'hardSwish', 'clip', 'erf', 'gelu'", Describe(fv));
  UnaryBaton b;
  b.fn = cpu::UnaryFn(it - std::begin(kFns));
  b.isa = cpu::active_isa();
  b.kernel = cpu::unary_kernel(b.isa);
  b.alpha = FloatProp(env, o, "alpha", where, false);
  b.beta = FloatProp(env, o, "beta", where, false);
  b.count = ToInt(env, o.Get("count"), where, "count", 1, kMaxCount);
  b.threads = Threads(env, o, where);
  need = {{b.count}, b.count};
  return b;
}

BinaryBaton ParseBinaryStep(Napi::Env env, const Napi::Object& o, const char* where, StepNeeds& need) {
  static const char* kFns[] = {"add", "sub", "mul", "div"};
  const Napi::Value fv = o.Get("fn");
  const std::string fn = fv.IsString() ? fv.As<Napi::String>().Utf8Value() : "";
  const auto it = std::find(std::begin(kFns), std::end(kFns), fn);
  if (it == std::end(kFns)) ThrowType(env, where, "fn", "one of 'add', 'sub', 'mul', 'div'", Describe(fv));
  BinaryBaton b;
  b.fn = cpu::BinaryFn(it - std::begin(kFns));
  b.isa = cpu::active_isa();
  b.kernel = cpu::binary_kernel(b.isa);
  b.relu = ToBool(env, o.Get("relu"), where, "relu");
  b.threads = Threads(env, o, where);
  b.dims = IntList(env, o, "dims", 1, kMaxRank, where, 1, kMaxDim);
  b.as = IntList(env, o, "aStrides", b.dims.size(), b.dims.size(), where, 0, kMaxCount);
  b.bs = IntList(env, o, "bStrides", b.dims.size(), b.dims.size(), where, 0, kMaxCount);
  const int64_t ny = Product(env, b.dims, where, "dims");
  need = {{Span(b.dims, b.as), Span(b.dims, b.bs)}, ny};
  return b;
}

StridedBaton ParseStridedStep(Napi::Env env, const Napi::Object& o, const char* where, StepNeeds& need) {
  StridedBaton b;
  b.dims = IntList(env, o, "dims", 1, kMaxRank, where, 1, kMaxDim);
  b.strides = IntList(env, o, "strides", b.dims.size(), b.dims.size(), where, -kMaxCount, kMaxCount);
  b.offset = ToInt(env, o.Get("offset"), where, "offset", 0, kMaxCount);
  // The lowest and highest index read: a negative stride (a reversed Slice) must not reach below x.
  int64_t lo = b.offset, hi = b.offset;
  for (size_t d = 0; d < b.dims.size(); ++d) (b.strides[d] < 0 ? lo : hi) += (b.dims[d] - 1) * b.strides[d];
  if (lo < 0) ThrowRange(env, where, "offset", "an offset that keeps every index ≥ 0 for these strides", std::to_string(b.offset));
  need = {{hi + 1}, Product(env, b.dims, where, "dims")};
  return b;
}

ConcatBaton ParseConcatStep(Napi::Env env, const Napi::Object& o, size_t n_inputs, const char* where,
                            StepNeeds& need) {
  ConcatBaton b;
  b.outer = ToInt(env, o.Get("outer"), where, "outer", 1, kMaxCount);
  b.chunks = IntList(env, o, "chunks", n_inputs, n_inputs, where, 1, kMaxCount);
  need.in_need.clear();
  int64_t row = 0;
  for (int64_t c : b.chunks) {
    need.in_need.push_back(Product(env, {b.outer, c}, where, "chunks"));
    row += c;
  }
  need.out_need = Product(env, {b.outer, row}, where, "chunks");
  return b;
}

SoftmaxBaton ParseSoftmaxStep(Napi::Env env, const Napi::Object& o, const char* where, StepNeeds& need) {
  SoftmaxBaton b;
  b.outer = ToInt(env, o.Get("outer"), where, "outer", 1, kMaxCount);
  b.n = ToInt(env, o.Get("n"), where, "n", 1, kMaxCount);
  b.inner = ToInt(env, o.Get("inner"), where, "inner", 1, kMaxCount);
  const int64_t total = Product(env, {b.outer, b.n, b.inner}, where, "outer·n·inner");
  need = {{total}, total};
  return b;
}

LayerNormBaton ParseLayerNormStep(Napi::Env env, const Napi::Object& o, size_t n_inputs,
                                  const char* where, StepNeeds& need) {
  LayerNormBaton b;
  b.isa = cpu::active_isa();
  b.kernel = cpu::layer_norm_kernel(b.isa).fn;
  b.outer = ToInt(env, o.Get("outer"), where, "outer", 1, kMaxCount);
  b.n = ToInt(env, o.Get("n"), where, "n", 1, kMaxCount);
  b.epsilon = FloatProp(env, o, "epsilon", where, true);
  if (!(b.epsilon >= 0)) ThrowRange(env, where, "epsilon", "a number ≥ 0", std::to_string(b.epsilon));
  const int64_t total = Product(env, {b.outer, b.n}, where, "outer·n");
  need = {{total, b.n}, total};
  if (n_inputs > 2) need.in_need.push_back(b.n);
  return b;
}

}  // namespace resnode::napi
