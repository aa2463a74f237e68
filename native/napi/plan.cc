// createPlan / runPlanSync / runPlan: a whole model's op sequence run in one
// native call (one libuv hop per model run instead of one per node).
//
// A plan is a list of steps, each an op baton (batons.h) whose non-buffer
// arguments were parsed and checked once, at creation, by the same
// Parse*Params functions the per-op entry points use. A step names its
// buffers by index into the list given at run time; each run checks that list
// (types, lengths against what the plan requires, overlaps) with the same
// Bind* functions, then runs the steps in order.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "args.h"
#include "batons.h"
#include "bindings.h"
#include "conv_nhwc.h"
#include "plan.h"
#include "qconv.h"
#include "qpool.h"
#include "steps.h"
#include "worker.h"

namespace resnode::napi {
namespace {

// y = x over `count` floats (Flatten / Reshape).
struct CopyBaton {
  static constexpr const char* kName = "copy";
  const float* x = nullptr;
  float* y = nullptr;
  int64_t count = 0;
  void Run() {
    if (y != x) std::memcpy(y, x, size_t(count) * sizeof(float));
  }
};

// y = max(x, 0) over `count` floats; y may be x.
struct ReluBaton {
  static constexpr const char* kName = "relu";
  const float* x = nullptr;
  float* y = nullptr;
  int64_t count = 0;
  void Run() {
    for (int64_t i = 0; i < count; ++i) y[i] = x[i] > 0.f ? x[i] : 0.f;
  }
};

// y[cols, rows] = x[rows, cols]^T
struct TransposeBaton {
  static constexpr const char* kName = "transpose";
  const float* x = nullptr;
  float* y = nullptr;
  int64_t rows = 0, cols = 0;
  void Run() {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) y[c * rows + r] = x[r * cols + c];
  }
};

// An ONNX QuantizeLinear -> DequantizeLinear pair per tensor over `count` floats; y may be x.
struct QuantizeDequantizeBaton {
  static constexpr const char* kName = "quantizeDequantize";
  const float* x = nullptr;
  float* y = nullptr;
  int64_t count = 0;
  cpu::QuantizeDequantize q;
  cpu::QuantizeDequantizeKernel kernel = nullptr;  // of the ISA active when the step was parsed
  void Run() { kernel(x, count, q, y); }
};

// The step's q: { scale, zeroPoint, qmin, qmax } (src/graph/graph.ts QuantParams).
QuantizeDequantizeBaton ParseQuantizeDequantize(Napi::Env env, const Napi::Value& qv, int64_t count,
                                                const char* where) {
  const Napi::Object q = ToObject(env, qv, where, "q");
  QuantizeDequantizeBaton b;
  b.count = count;
  const Napi::Value sv = q.Get("scale");
  const double scale = sv.IsNumber() ? sv.As<Napi::Number>().DoubleValue() : 0;
  if (!sv.IsNumber()) ThrowType(env, where, "q.scale", "a number", Describe(sv));
  if (!(scale > 0) || !std::isfinite(float(scale)))
    ThrowRange(env, where, "q.scale", "a positive finite float32", Describe(sv));
  b.q.scale = float(scale);
  b.q.qmin = int32_t(GetIntProp(env, q, "qmin", where, INT32_MIN, INT32_MAX));
  b.q.qmax = int32_t(GetIntProp(env, q, "qmax", where, b.q.qmin, INT32_MAX));
  b.q.zero_point = int32_t(GetIntProp(env, q, "zeroPoint", where, b.q.qmin, b.q.qmax));
  b.kernel = cpu::quantize_dequantize_kernel(cpu::active_isa());
  return b;
}

// Integer-exact requantization per channel (cpu::requantize); y may be x.
struct RequantizeBaton {
  static constexpr const char* kName = "requantize";
  const float* x = nullptr;
  float* y = nullptr;
  int64_t count = 0, channels = 1, inner = 1;
  std::shared_ptr<std::vector<float>> multipliers;
  cpu::Requant r;
  void Run() {
    r.multipliers = multipliers->data();
    cpu::requantize(x, count, channels, inner, r, y);
  }
};

double PositiveFloatProp(Napi::Env env, const Napi::Object& o, const char* key, const char* where) {
  const Napi::Value v = o.Get(key);
  if (!v.IsNumber()) ThrowType(env, where, std::string("r.") + key, "a number", Describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d > 0) || !std::isfinite(float(d)))
    ThrowRange(env, where, std::string("r.") + key, "a positive finite float32", Describe(v));
  return d;
}

// The step's count, channels, inner and r: { multipliers, divisor, zeroPoint, qmin, qmax, outScale }.
RequantizeBaton ParseRequantize(Napi::Env env, const Napi::Object& o, const char* where) {
  RequantizeBaton b;
  b.count = ToInt(env, o.Get("count"), where, "count", 1, int64_t(1) << 53);
  b.channels = ToInt(env, o.Get("channels"), where, "channels", 1, kMaxDim);
  b.inner = ToInt(env, o.Get("inner"), where, "inner", 1, int64_t(1) << 53);
  if (b.count % (b.channels * b.inner) != 0)
    ThrowRange(env, where, "count", "a multiple of channels * inner", std::to_string(b.count));
  const Napi::Object r = ToObject(env, o.Get("r"), where, "r");
  const Napi::Value mv = r.Get("multipliers");
  if (!mv.IsArray()) ThrowType(env, where, "r.multipliers", "an array of numbers", Describe(mv));
  const auto arr = mv.As<Napi::Array>();
  if (arr.Length() != 1 && int64_t(arr.Length()) != b.channels)
    ThrowRange(env, where, "r.multipliers.length", "1 or channels (" + std::to_string(b.channels) + ")",
               std::to_string(arr.Length()));
  b.multipliers = std::make_shared<std::vector<float>>();
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    const Napi::Value e = arr.Get(k);
    const double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!(d > 0) || !std::isfinite(float(d)))
      ThrowRange(env, where, "r.multipliers[" + std::to_string(k) + "]", "a positive finite float32", Describe(e));
    b.multipliers->push_back(float(d));
  }
  b.r.n_multipliers = int64_t(arr.Length());
  b.r.divisor = float(PositiveFloatProp(env, r, "divisor", where));
  b.r.out_scale = float(PositiveFloatProp(env, r, "outScale", where));
  const int64_t lim = int64_t(1) << 40;
  b.r.qmin = double(GetIntProp(env, r, "qmin", where, -lim, lim));
  b.r.qmax = double(GetIntProp(env, r, "qmax", where, int64_t(b.r.qmin), lim));
  b.r.zero_point = double(GetIntProp(env, r, "zeroPoint", where, int64_t(b.r.qmin), int64_t(b.r.qmax)));
  return b;
}

// ONNX Runtime's QLinearAdd on dequantized operands (eltwise/f32_qlinear_vadd__<isa>); y may be a or b.
struct QLinearAddBaton {
  static constexpr const char* kName = "qlinearAdd";
  const float* a = nullptr;
  const float* b = nullptr;
  float* y = nullptr;
  int64_t count = 0;
  cpu::QLinearAdd p;
  cpu::QLinearAddKernel kernel = nullptr;  // of the ISA active when the step was parsed
  // The plan keeps a, b and y as u8 NHWC bytes (src/plan/formats.ts): the same integers on them.
  cpu::Qu8QLinearAddKernel u8_kernel = nullptr;
  const char* kernel_name = "";  // for profiles: which of the two, on which ISA
  void Run() {
    if (u8_kernel) u8_kernel(reinterpret_cast<const uint8_t*>(a), reinterpret_cast<const uint8_t*>(b), count, p, reinterpret_cast<uint8_t*>(y));
    else kernel(a, b, count, p, y);
  }
};

// The step's count and q: { aScale, aZeroPoint, bScale, bZeroPoint, ratioA, ratioB, fixed, shift,
// y: { scale, zeroPoint, qmin, qmax } } (src/graph/graph.ts QLinearAddParams).
QLinearAddBaton ParseQLinearAdd(Napi::Env env, const Napi::Object& o, const char* where) {
  QLinearAddBaton b;
  b.kernel = cpu::qlinear_add_kernel(cpu::active_isa());
  b.count = ToInt(env, o.Get("count"), where, "count", 1, int64_t(1) << 53);
  b.p = ReadQLinearAddParams(env, o.Get("q"), where, "q");
  const Napi::Value u8 = o.Get("u8");
  if (!u8.IsUndefined() && !u8.IsBoolean()) ThrowType(env, where, "u8", "a boolean", Describe(u8));
  const cpu::Isa isa = cpu::active_isa();
  if (!u8.IsUndefined() && u8.As<Napi::Boolean>().Value()) b.u8_kernel = cpu::qu8_qlinear_add_kernel(isa);
  b.kernel_name = b.u8_kernel ? (isa == cpu::Isa::avx512 ? "qu8_qlinear_vadd__avx512f" : "qu8_qlinear_vadd__scalar")
                  : isa == cpu::Isa::avx512 ? "f32_qlinear_vadd__avx512f"
                  : isa == cpu::Isa::avx2   ? "f32_qlinear_vadd__avx2"
                                            : "f32_qlinear_vadd__scalar";
  return b;
}

using AnyBaton = std::variant<ConvBaton, ConvNhwcBaton, ReorderBaton, QConvBaton, GemmBaton, PoolBaton, GapBaton, AddBaton, CopyBaton,
                              ReluBaton, TransposeBaton, QuantizeDequantizeBaton, RequantizeBaton,
                              QLinearAddBaton, Qu8MaxPoolBaton, QGapBaton,
                              UnaryBaton, BinaryBaton, StridedBaton, ConcatBaton, SoftmaxBaton,
                              LayerNormBaton>;

struct Step {
  AnyBaton baton;        // parsed and checked; buffers unbound
  std::vector<int> inputs;
  int output = 0;
  std::string where;     // "runPlan: steps[i] (op)", for run-time errors
};

// A buffer index the plan binds to a run of another buffer (a Concat's input
// written in place into its output: src/graph/concat-views.ts), not to the
// run's own entry at that index.
struct View {
  int buffer = 0, base = 0;
  int64_t offset = 0, length = 0;
};

struct Plan {
  std::vector<Step> steps;
  std::vector<int64_t> need;  // per buffer index: floats required (0 = unused)
  std::vector<bool> written;  // per buffer index: some step writes it
  std::vector<View> views;    // only views some step uses; each base is no view
  std::vector<int> view_base; // per buffer index: its view's base, or -1
};

struct PlanHolder {
  std::shared_ptr<const Plan> plan;  // null once released
};

constexpr napi_type_tag kPlanTag = {0x5e8d2c4b7a1f3960ULL, 0xc2b4d6e8f0a19375ULL};
constexpr int64_t kMaxBuffers = 1 << 16;

bool IsPlan(const Napi::Value& v) {
  return v.IsExternal() && v.As<Napi::External<PlanHolder>>().CheckTypeTag(&kPlanTag);
}

std::shared_ptr<const Plan> UnwrapPlan(Napi::Env env, const Napi::Value& v, const char* where) {
  if (!IsPlan(v)) ThrowType(env, where, "plan", "a handle returned by createPlan", Describe(v));
  std::shared_ptr<const Plan> p = v.As<Napi::External<PlanHolder>>().Data()->plan;
  if (!p)
    throw Napi::TypeError::New(env, std::string(where) + ": plan is a handle that has been released");
  return p;
}

// Reads createPlan's optional views ({ buffer, base, offset, length }[]) into
// `plan`, keeping those some step uses: each must fit in its base, hold what
// its steps need, and name a base that is itself no view.
void ParseViews(Napi::Env env, const Napi::Value& vv, Plan& plan) {
  const char* where = "createPlan";
  plan.view_base.assign(plan.need.size(), -1);
  if (vv.IsUndefined()) return;
  if (!vv.IsArray()) ThrowType(env, where, "views", "an array of { buffer, base, offset, length }", Describe(vv));
  const auto arr = vv.As<Napi::Array>();
  std::vector<View> all;
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    const std::string at = "views[" + std::to_string(k) + "]";
    const Napi::Value e = arr.Get(k);
    if (!e.IsObject()) ThrowType(env, where, at, "an object { buffer, base, offset, length }", Describe(e));
    const Napi::Object o = e.As<Napi::Object>();
    View v;
    v.buffer = int(ToInt(env, o.Get("buffer"), where, (at + ".buffer").c_str(), 0, kMaxBuffers - 1));
    v.base = int(ToInt(env, o.Get("base"), where, (at + ".base").c_str(), 0, kMaxBuffers - 1));
    v.length = ToInt(env, o.Get("length"), where, (at + ".length").c_str(), 1, int64_t(1) << 40);
    v.offset = ToInt(env, o.Get("offset"), where, (at + ".offset").c_str(), 0, int64_t(1) << 40);
    if (v.buffer == v.base) ThrowRange(env, where, at + ".base", "a buffer other than the view's own", std::to_string(v.base));
    all.push_back(v);
  }
  std::vector<bool> is_view(size_t(kMaxBuffers), false);
  for (const View& v : all) {
    if (is_view[size_t(v.buffer)])
      ThrowRange(env, where, "views", "one view per buffer", "two for buffers[" + std::to_string(v.buffer) + "]");
    is_view[size_t(v.buffer)] = true;
  }
  for (size_t k = 0; k < all.size(); ++k) {
    const View& v = all[k];
    if (is_view[size_t(v.base)])
      ThrowRange(env, where, "views[" + std::to_string(k) + "].base", "a buffer that is no view", std::to_string(v.base));
    if (size_t(v.buffer) >= plan.need.size() || plan.need[size_t(v.buffer)] == 0) continue;  // no step uses it
    if (plan.need[size_t(v.buffer)] > v.length)
      ThrowRange(env, where, "views[" + std::to_string(k) + "].length",
                 "at least " + std::to_string(plan.need[size_t(v.buffer)]) + " (what its steps use)", std::to_string(v.length));
    if (size_t(v.base) >= plan.need.size()) {
      plan.need.resize(size_t(v.base) + 1, 0);
      plan.written.resize(size_t(v.base) + 1, false);
      plan.view_base.resize(size_t(v.base) + 1, -1);
    }
    plan.need[size_t(v.base)] = std::max(plan.need[size_t(v.base)], v.offset + v.length);
    if (plan.written[size_t(v.buffer)]) plan.written[size_t(v.base)] = true;
    plan.view_base[size_t(v.buffer)] = v.base;
    plan.views.push_back(v);
  }
}

// The all-in-one baton a run executes: the plan's steps bound to this run's buffers.
struct PlanBaton {
  static constexpr const char* kName = "plan";
  std::shared_ptr<const Plan> plan;  // keeps the packed weights alive
  std::vector<AnyBaton> steps;
  void Run() {
    for (AnyBaton& b : steps) std::visit([](auto& op) { op.Run(); }, b);
  }
  // Nothing to copy: a plan's buffers are its Model's own arena, into which
  // the feeds were copied on the JS thread (src/model.ts); no caller holds them.
  void OwnInputs(InputCopies&) {}
};

// Parses step `i` (an object) into a Step, recording buffer requirements in `plan`.
Step ParseStep(Napi::Env env, const Napi::Value& v, size_t i, Plan& plan) {
  const std::string at = "steps[" + std::to_string(i) + "]";
  const std::string outer = "createPlan";
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray())
    ThrowType(env, outer, at, "an object", Describe(v));
  const Napi::Object o = v.As<Napi::Object>();
  const Napi::Value opv = o.Get("op");
  static const char* kOps[] = {"conv", "convNhwc", "reorder", "qconv", "gemm", "maxPool", "averagePool", "globalAveragePool",
                               "add", "copy", "relu", "transpose", "quantizeDequantize",
                               "requantize", "qlinearAdd", "qu8MaxPool", "qGlobalAveragePool", "unary",
                               "binary", "strided", "concat", "softmax", "layerNorm"};
  const std::string op = opv.IsString() ? opv.As<Napi::String>().Utf8Value() : "";
  if (std::find(std::begin(kOps), std::end(kOps), op) == std::end(kOps))
    ThrowType(env, outer, at + ".op",
              "one of 'conv', 'convNhwc', 'reorder', 'qconv', 'gemm', 'maxPool', 'averagePool', 'globalAveragePool', 'add', "
              "'copy', 'relu', 'transpose', 'quantizeDequantize', 'requantize', 'qlinearAdd', "
              "'qu8MaxPool', 'qGlobalAveragePool', 'unary', 'binary', 'strided', 'concat', 'softmax', 'layerNorm'",
              opv.IsString() ? "'" + op + "'" : Describe(opv));
  const std::string where_s = outer + ": " + at + " (" + op + ")";
  const char* where = where_s.c_str();

  Step s;
  s.where = "runPlan: " + at + " (" + op + ")";
  // inputs: conv takes [x] or [x, residual]; add and binary [a, b]; layerNorm [x, scale] or
  // [x, scale, bias]; concat one or more; the rest [x].
  const bool two = op == "add" || op == "binary" || op == "qlinearAdd";
  const size_t min_in = two || op == "layerNorm" ? 2 : 1;
  const size_t max_in = op == "concat" ? size_t(kMaxBuffers) : op == "layerNorm" ? 3 : two || op == "conv" || op == "convNhwc" || op == "qconv" ? 2 : 1;
  const Napi::Value inv = o.Get("inputs");
  if (!inv.IsArray() || inv.As<Napi::Array>().Length() < min_in ||
      inv.As<Napi::Array>().Length() > max_in)
    ThrowType(env, where, "inputs",
              "an array of " + std::to_string(min_in) +
                  (max_in != min_in ? " or " + std::to_string(max_in) : std::string()) +
                  " buffer indices",
              Describe(inv));
  const auto in_arr = inv.As<Napi::Array>();
  for (uint32_t k = 0; k < in_arr.Length(); ++k)
    s.inputs.push_back(int(ToInt(env, in_arr.Get(k), where, "inputs[" + std::to_string(k) + "]",
                                 0, kMaxBuffers - 1)));
  s.output = int(ToInt(env, o.Get("output"), where, "output", 0, kMaxBuffers - 1));

  auto count = [&](const char* key) { return ToInt(env, o.Get(key), where, key, 1, int64_t(1) << 53); };
  std::vector<int64_t> in_need;  // floats each input must hold
  int64_t out_need = 0;
  if (op == "conv") {
    ConvBaton b = ParseConvParams(env, o.Get("packed"), o.Get("p"), where);
    in_need = {b.nx, b.ny};
    out_need = b.ny;
    s.baton = std::move(b);
  } else if (op == "convNhwc") {
    ConvNhwcBaton b = ParseConvNhwcParams(env, o.Get("packed"), o.Get("p"), where);
    in_need = {b.nx, b.ny};
    out_need = b.ny;
    s.baton = std::move(b);
  } else if (op == "reorder") {
    ReorderBaton b = ParseReorderParams(env, o, where);
    in_need = {b.n * b.c * b.hw};
    out_need = b.n * b.c * b.hw;
    s.baton = std::move(b);
  } else if (op == "qconv") {
    QConvBaton b = ParseQConvParams(env, o.Get("packed"), o.Get("p"), o.Get("io"), o.Get("add"), where);
    if ((s.inputs.size() == 2) != b.fused_add)
      ThrowType(env, where, "inputs", b.fused_add ? "[x, residual] (the step fuses an add)" : "[x]", std::to_string(s.inputs.size()) + " buffers");
    in_need = {b.nx};
    if (b.fused_add) in_need.push_back(b.nr);
    out_need = b.ny;
    s.baton = std::move(b);
  } else if (op == "gemm") {
    GemmBaton b = ParseGemmParams(env, o.Get("packed"), o.Get("m"), o.Get("relu"),
                                  o.Get("threads"), where);
    in_need = {b.nx};
    out_need = b.ny;
    s.baton = std::move(b);
  } else if (op == "maxPool" || op == "averagePool") {
    PoolBaton b = ParsePoolParams(env, o.Get("p"), o.Get("countIncludePad"),
                                  op == "averagePool", where);
    in_need = {b.nx};
    out_need = b.ny;
    s.baton = std::move(b);
  } else if (op == "globalAveragePool") {
    GapBaton b = ParseGapParams(env, o.Get("n"), o.Get("c"), o.Get("hw"), o.Get("threads"), o.Get("nhwc"), where);
    in_need = {b.nx};
    out_need = b.ny;
    s.baton = std::move(b);
  } else if (op == "add") {
    AddBaton b = ParseAddParams(env, o.Get("relu"), o.Get("threads"), where);
    b.count = count("count");
    in_need = {b.count, b.count};
    out_need = b.count;
    s.baton = std::move(b);
  } else if (op == "copy" || op == "relu") {
    const int64_t n = count("count");
    if (op == "copy") s.baton = CopyBaton{nullptr, nullptr, n};
    else s.baton = ReluBaton{nullptr, nullptr, n};
    in_need = {n};
    out_need = n;
  } else if (op == "quantizeDequantize") {
    s.baton = ParseQuantizeDequantize(env, o.Get("q"), count("count"), where);
    in_need = {std::get<QuantizeDequantizeBaton>(s.baton).count};
    out_need = in_need[0];
  } else if (op == "requantize") {
    s.baton = ParseRequantize(env, o, where);
    in_need = {std::get<RequantizeBaton>(s.baton).count};
    out_need = in_need[0];
  } else if (op == "qlinearAdd") {
    s.baton = ParseQLinearAdd(env, o, where);
    const QLinearAddBaton& qb = std::get<QLinearAddBaton>(s.baton);
    const int64_t n = qb.u8_kernel ? (qb.count + 3) / 4 : qb.count;  // u8: bytes in float slots
    in_need = {n, n};
    out_need = n;
  } else if (op == "qu8MaxPool") {
    Qu8MaxPoolBaton b = ParseQu8MaxPool(env, o.Get("p"), where);
    in_need = {b.nx};
    out_need = b.ny;
    s.baton = std::move(b);
  } else if (op == "qGlobalAveragePool") {
    QGapBaton b = ParseQGap(env, o, where);
    in_need = {b.nx};
    out_need = b.ny;
    s.baton = std::move(b);
  } else if (op == "unary" || op == "binary" || op == "strided" || op == "concat" ||
             op == "softmax" || op == "layerNorm") {
    StepNeeds nd;
    if (op == "unary") s.baton = ParseUnaryStep(env, o, where, nd);
    else if (op == "binary") s.baton = ParseBinaryStep(env, o, where, nd);
    else if (op == "strided") s.baton = ParseStridedStep(env, o, where, nd);
    else if (op == "concat") s.baton = ParseConcatStep(env, o, s.inputs.size(), where, nd);
    else if (op == "softmax") s.baton = ParseSoftmaxStep(env, o, where, nd);
    else s.baton = ParseLayerNormStep(env, o, s.inputs.size(), where, nd);
    in_need = std::move(nd.in_need);
    out_need = nd.out_need;
  } else {  // transpose
    TransposeBaton b;
    b.rows = ToInt(env, o.Get("rows"), where, "rows", 1, kMaxDim);
    b.cols = ToInt(env, o.Get("cols"), where, "cols", 1, kMaxDim);
    in_need = {CheckedProduct(env, {b.rows, b.cols}, where, "x")};
    out_need = in_need[0];
    s.baton = b;
  }

  auto require = [&](int index, int64_t n, bool write) {
    if (size_t(index) >= plan.need.size()) {
      plan.need.resize(size_t(index) + 1, 0);
      plan.written.resize(size_t(index) + 1, false);
    }
    plan.need[size_t(index)] = std::max(plan.need[size_t(index)], n);
    if (write) plan.written[size_t(index)] = true;
  };
  for (size_t k = 0; k < s.inputs.size(); ++k) require(s.inputs[k], in_need[k], false);
  require(s.output, out_need, true);
  return s;
}

// Reads and checks the run's buffers, then binds every step to them.
PlanBaton Bind(const Napi::CallbackInfo& info, const char* where, std::vector<Napi::Value>* keep) {
  Napi::Env env = info.Env();
  PlanBaton pb;
  pb.plan = UnwrapPlan(env, info[0], where);
  const Plan& plan = *pb.plan;
  const Napi::Value bv = info[1];
  if (!bv.IsArray())
    ThrowType(env, where, "buffers", "an array of Float32Array", Describe(bv));
  const auto arr = bv.As<Napi::Array>();
  if (arr.Length() < plan.need.size())
    ThrowRange(env, where, "buffers.length",
               "at least " + std::to_string(plan.need.size()) + " (the buffers the plan uses)",
               std::to_string(arr.Length()));
  std::vector<F32> bufs(plan.need.size());
  std::vector<std::string> names(plan.need.size());
  for (size_t i = 0; i < plan.need.size(); ++i) {
    if (plan.need[i] == 0 || plan.view_base[i] >= 0) continue;
    names[i] = "buffers[" + std::to_string(i) + "]";
    bufs[i] = ToF32(env, arr.Get(uint32_t(i)), where, names[i].c_str());
    RequireLength(env, bufs[i], plan.need[i], where, names[i].c_str());
    if (keep) keep->push_back(bufs[i].object);
  }
  // A view is its base's memory from its offset on (createPlan checked that it fits).
  for (const View& v : plan.views) {
    const F32& base = bufs[size_t(v.base)];
    names[size_t(v.buffer)] = names[size_t(v.base)] + " from " + std::to_string(v.offset);
    bufs[size_t(v.buffer)] = F32{base.data + v.offset, size_t(v.length), base.object};
  }
  // Distinct buffers must not share memory where either is written: a step
  // writing one would change what a later step reads through the other. A view
  // shares its base's memory by design, and views of one base may overlap: the
  // memory plan gives a slot's memory to one value at a time, as it does slots.
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (plan.need[i] == 0) continue;
    for (size_t j = i + 1; j < bufs.size(); ++j) {
      if (plan.need[j] == 0 || !(plan.written[i] || plan.written[j])) continue;
      const int bi = plan.view_base[i] >= 0 ? plan.view_base[i] : int(i);
      const int bj = plan.view_base[j] >= 0 ? plan.view_base[j] : int(j);
      if (bi == bj) continue;
      // Checked for every pair on every run: the message is built only for a pair that overlaps.
      if (Overlap(bufs[i].data, plan.need[i], bufs[j].data, plan.need[j], false))
        RequireNoOverlap(env, bufs[i].data, plan.need[i], bufs[j].data, plan.need[j], false, where,
                         (names[i] + " and " + names[j] + " overlap, and the plan writes one of them").c_str());
    }
  }
  static const F32 kNone{};
  pb.steps.reserve(plan.steps.size());
  for (const Step& s : plan.steps) {
    const char* w = s.where.c_str();
    const F32& x = bufs[size_t(s.inputs[0])];
    const F32& x2 = s.inputs.size() > 1 ? bufs[size_t(s.inputs[1])] : kNone;
    const F32& y = bufs[size_t(s.output)];
    AnyBaton b = s.baton;
    std::visit(
        [&](auto& op) {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, ConvBaton>) BindConv(env, op, x, x2, y, w);
          else if constexpr (std::is_same_v<T, GemmBaton>) BindGemm(env, op, x, y, w);
          else if constexpr (std::is_same_v<T, ConvNhwcBaton>) {
            // residual === y (same start and size) is supported, as for 'conv': each tile reads
            // its residual before it stores over it.
            if (s.inputs.size() > 1)
              RequireNoOverlap(env, y.data, op.ny, x2.data, op.ny, true, w,
                               "y and residual overlap (they may only be the very same buffer)");
            RequireNoOverlap(env, y.data, op.ny, x.data, op.nx, false, w, "y must not overlap x");
            op.x = x.data;
            op.residual = s.inputs.size() > 1 ? x2.data : nullptr;
            op.y = y.data;
          } else if constexpr (std::is_same_v<T, ReorderBaton>) {
            const int64_t count = op.n * op.c * op.hw;
            RequireNoOverlap(env, y.data, count, x.data, count, false, w, "y must not overlap x");
            op.x = x.data;
            op.y = y.data;
          }
          else if constexpr (std::is_same_v<T, QConvBaton>) {
            RequireNoOverlap(env, y.data, op.ny, x.data, op.nx, false, w, "y must not overlap x");
            // y may be the residual itself: a float32 residual is quantized before the conv runs, a
            // float32 y written after it, and each u8 tile reads its residual before writing over it.
            if (op.fused_add && x2.data != y.data)
              RequireNoOverlap(env, y.data, op.ny, x2.data, op.nr, false, w,
                               "y overlaps the residual (it may only be the very same buffer)");
            op.x = x.data;
            op.y = y.data;
            op.r = x2.data;
          }
          else if constexpr (std::is_same_v<T, PoolBaton>) BindPool(env, op, x, y, w);
          else if constexpr (std::is_same_v<T, Qu8MaxPoolBaton> || std::is_same_v<T, QGapBaton>) {
            RequireNoOverlap(env, y.data, op.ny, x.data, op.nx, false, w, "y must not overlap x");
            op.x = x.data;
            op.y = y.data;
          }
          else if constexpr (std::is_same_v<T, GapBaton>) BindGap(env, op, x, y, w);
          else if constexpr (std::is_same_v<T, AddBaton>) BindAdd(env, op, x, x2, y, w);
          else if constexpr (std::is_same_v<T, QLinearAddBaton>) {
            const int64_t floats = op.u8_kernel ? (op.count + 3) / 4 : op.count;  // u8: bytes in float slots
            for (const F32* in : {&x, &x2})
              RequireNoOverlap(env, y.data, floats, in->data, floats, true, w,
                               "y overlaps an operand (it may only be the very same buffer)");
            op.a = x.data;
            op.b = x2.data;
            op.y = y.data;
          }
          else if constexpr (std::is_same_v<T, UnaryBaton> || std::is_same_v<T, BinaryBaton>) {
            // Elementwise: y may be an operand itself, not a shifted view of one.
            const int64_t ny = plan.need[size_t(s.output)];
            for (size_t k = 0; k < s.inputs.size(); ++k) {
              const F32& in = bufs[size_t(s.inputs[k])];
              RequireNoOverlap(env, y.data, ny, in.data, plan.need[size_t(s.inputs[k])], true, w,
                               "y overlaps an input (it may only be the very same buffer)");
            }
            if constexpr (std::is_same_v<T, UnaryBaton>) op.x = x.data;
            else { op.a = x.data; op.b = x2.data; }
            op.y = y.data;
          } else if constexpr (std::is_same_v<T, StridedBaton> || std::is_same_v<T, ConcatBaton> ||
                               std::is_same_v<T, SoftmaxBaton> || std::is_same_v<T, LayerNormBaton>) {
            for (size_t k = 0; k < s.inputs.size(); ++k) {
              const F32& in = bufs[size_t(s.inputs[k])];
              RequireNoOverlap(env, y.data, plan.need[size_t(s.output)], in.data,
                               plan.need[size_t(s.inputs[k])], false, w, "y must not overlap an input");
            }
            if constexpr (std::is_same_v<T, ConcatBaton>) {
              op.xs.clear();
              for (int k : s.inputs) op.xs.push_back(bufs[size_t(k)].data);
            } else if constexpr (std::is_same_v<T, LayerNormBaton>) {
              op.x = x.data;
              op.scale = x2.data;
              op.bias = s.inputs.size() > 2 ? bufs[size_t(s.inputs[2])].data : nullptr;
            } else {
              op.x = x.data;
            }
            op.y = y.data;
          } else if constexpr (std::is_same_v<T, TransposeBaton>) {
            RequireNoOverlap(env, y.data, op.rows * op.cols, x.data, op.rows * op.cols, false, w,
                             "y must not overlap x");
            op.x = x.data;
            op.y = y.data;
          } else {  // copy, relu, (re)quantize: y may be x itself, not a shifted view of it
            RequireNoOverlap(env, y.data, op.count, x.data, op.count, true, w,
                             "y overlaps x (it may only be the very same buffer)");
            op.x = x.data;
            op.y = y.data;
          }
        },
        b);
    pb.steps.push_back(std::move(b));
  }
  return pb;
}

// The micro-kernel a step's baton runs, chosen when it was parsed ("" where
// the step is a plain copy or loop with no kernel of its own to name: copy,
// relu, add, transpose, (re)quantize).
std::string StepKernelName(const AnyBaton& baton) {
  return std::visit(
      [](const auto& op) -> std::string {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, ConvBaton>) return cpu::conv2d_kernel(op.s, *op.w, op.choice);
        else if constexpr (std::is_same_v<T, GemmBaton>) return cpu::gemm_kernel(*op.w, op.m);
        else if constexpr (std::is_same_v<T, QConvBaton>)  // a fused residual add names its kernel too
          return std::string(cpu::qu8_conv2d_nhwc_kernel_name(op.w->gemm, op.s)) + (op.fused_add ? std::string("+") + op.add_kernel_name : "");
        else if constexpr (std::is_same_v<T, ConvNhwcBaton>) return op.ind->config->name;
        else if constexpr (std::is_same_v<T, ReorderBaton>) return ReorderKernelName(op);
        else if constexpr (std::is_same_v<T, UnaryBaton>) return cpu::unary_kernel_name(op.isa);
        else if constexpr (std::is_same_v<T, BinaryBaton>) return cpu::binary_kernel_name(op.isa);
        else if constexpr (std::is_same_v<T, AddBaton>) return cpu::binary_kernel_name(op.isa);
        else if constexpr (std::is_same_v<T, QLinearAddBaton> || std::is_same_v<T, Qu8MaxPoolBaton> ||
                           std::is_same_v<T, QGapBaton>)
          return op.kernel_name;
        else if constexpr (std::is_same_v<T, GapBaton>)
          return op.nhwc ? cpu::pool_nhwc_kernels(op.isa).avgpool_name : cpu::global_average_pool_kernel_name(op.isa);
        // memcpy of contiguous runs (a gather where the innermost stride is not 1): no ISA of their own.
        else if constexpr (std::is_same_v<T, ConcatBaton>) return "f32_concat_copy";
        else if constexpr (std::is_same_v<T, StridedBaton>) return "f32_strided_copy";
        // A plain loop, named as such so a profile shows where it costs time.
        else if constexpr (std::is_same_v<T, SoftmaxBaton>) return "f32_softmax__scalar";
        else if constexpr (std::is_same_v<T, LayerNormBaton>) return cpu::layer_norm_kernel(op.isa).name;
        else if constexpr (std::is_same_v<T, PoolBaton>)
          if (op.nhwc) return op.average ? cpu::pool_nhwc_kernels(op.isa).avgpool_name : cpu::pool_nhwc_kernels(op.isa).maxpool_name;
          else return op.isa == cpu::Isa::avx512 ? (op.average ? "avg_pool_vsum__avx512f" : "max_pool_vmax__avx512f")
                                            : (op.average ? "avg_pool_vsum" : "max_pool_vmax");
        else return "";
      },
      baton);
}

}  // namespace

bool ReleasePlan(Napi::Env, const Napi::Value& v) {
  if (!IsPlan(v)) return false;
  v.As<Napi::External<PlanHolder>>().Data()->plan.reset();
  return true;
}

// [sync] createPlan(steps, views?): handle
// Checks a model's op sequence once and keeps it for runPlanSync/runPlan.
// Params: steps: array of { op, inputs: number[], output: number, ...params }
//   where op and its params are
//     'conv': packed (packConv2d handle), p: NativeConvParams; inputs [x] or [x, residual]
//     'convNhwc': packed (packConv2dNhwc handle), p: NativeConvParams (NCHW-ordered dims of
//       NHWC values); inputs [x] or [x, residual], all NHWC
//     'reorder': n, c, hw, to: 'nhwc' | 'nchw', threads; inputs [x]
//     'qconv': packed (packQConv2d handle), p: NativeConvParams, io?: { x, y } each
//       { layout: 'nchw', dtype: 'f32' } (dequantized values, the default) or
//       { layout: 'nhwc', dtype: 'u8' } (the quantized bytes); inputs [x]; with add:
//       { q: QLinearAddParams, convIsA } a fused residual add, inputs [x, residual], io.r
//     'gemm': packed (packGemm handle), m, relu, threads; inputs [x]
//     'maxPool': p: NativePoolParams (p.nhwc: NHWC x and y); 'averagePool': p, countIncludePad; inputs [x]
//     'globalAveragePool': n, c, hw, threads, nhwc?; inputs [x]
//     'add': count, relu, threads; inputs [a, b]
//     'copy' / 'relu': count; inputs [x]   'transpose': rows, cols; inputs [x]
//     'quantizeDequantize': count, q: { scale, zeroPoint, qmin, qmax }; inputs [x]
//     'requantize': count, channels, inner, r: { multipliers, divisor, zeroPoint, qmin, qmax,
//       outScale }; inputs [x]
//     'qu8MaxPool': p: NativePoolParams, x and y u8 NHWC bytes; 'qGlobalAveragePool': n, c, hw,
//       u8, q (qpool.h); inputs [x]
//     'unary', 'binary', 'strided', 'concat', 'softmax', 'layerNorm': see steps.h and
//       PlanStep in src/backend/types.ts
//   views: optional { buffer, base, offset, length }[]: buffer index `buffer`
//   is bound at each run to floats [offset, offset + length) of buffers[base]
//   (a Concat input its producer writes in place), not to buffers[buffer].
//   inputs/output index the buffer list given at run time. The plan keeps its
//   own reference to the packed weights (releasing their handles later is safe).
// Returns: an opaque plan handle (freed when collected or released).
// Throws: TypeError/RangeError naming the step and argument, as the per-op
//   functions do (e.g. "createPlan: steps[3] (conv): expected ... for p.cOut ...").
Napi::Value CreatePlan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Value sv = info[0];
  if (!sv.IsArray()) ThrowType(env, "createPlan", "steps", "an array of step objects", Describe(sv));
  const auto arr = sv.As<Napi::Array>();
  auto plan = std::make_shared<Plan>();
  plan->steps.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) plan->steps.push_back(ParseStep(env, arr.Get(i), i, *plan));
  ParseViews(env, info[1], *plan);
  auto* h = new PlanHolder{std::move(plan)};
  auto ext = Napi::External<PlanHolder>::New(env, h, [](Napi::Env, PlanHolder* hh) { delete hh; });
  ext.TypeTag(&kPlanTag);
  return ext;
}

// [sync] planKernels(plan): string[]
// The micro-kernel each step runs, in step order, as chosen when the plan was
// created (for per-step profiles); "" for a step with no kernel to name.
// Throws: TypeError for a wrong or released plan.
Napi::Value PlanKernels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::shared_ptr<const Plan> plan = UnwrapPlan(env, info[0], "planKernels");
  Napi::Array out = Napi::Array::New(env, plan->steps.size());
  for (size_t i = 0; i < plan->steps.size(); ++i)
    out.Set(uint32_t(i), Napi::String::New(env, StepKernelName(plan->steps[i].baton)));
  return out;
}

// [sync] runPlanSync(plan, buffers)
// Runs every step of the plan in order on the calling thread (plus the pool).
// Params: plan: handle from createPlan; buffers: Float32Array[], at least as
//   many as the plan indexes, each at least as long as its uses need.
// Returns: undefined.
// Throws: TypeError for a wrong or released plan, a non-array or a non-Float32Array
//   buffer; RangeError for a short buffer or list, distinct buffers that overlap
//   where one is written, or a step's own overlap rule; Error if a kernel fails
//   (earlier steps' outputs are then already written).
Napi::Value RunPlanSync(const Napi::CallbackInfo& info) {
  PlanBaton b = Bind(info, "runPlanSync", nullptr);
  RunBatonSync(info.Env(), b);
  return info.Env().Undefined();
}

// [async] runPlan(plan, buffers): Promise<void>
// As runPlanSync, but all steps run in one job on the libuv pool. The plan and
// every buffer are referenced until it settles; do not touch the buffers meanwhile.
// Throws: synchronously, the same TypeError/RangeError as runPlanSync; the
//   Promise rejects with Error if a kernel fails.
Napi::Value RunPlanAsync(const Napi::CallbackInfo& info) {
  std::vector<Napi::Value> keep{info[0]};
  PlanBaton b = Bind(info, "runPlan", &keep);
  return QueueBaton(info.Env(), std::move(b), keep);
}

}  // namespace resnode::napi
