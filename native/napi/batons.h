// The op batons (plain structs of raw pointers and shapes that Run() hands to
// native/cpu) and their shared argument checks. Each op's checks are split in
// two so that the per-op entry points and the plan executor (plan.cc) share
// them: Parse*Params reads and checks the non-buffer arguments (dims, packed
// weights, flags) and records how many floats each buffer must hold; Bind*
// checks the buffers' lengths and overlaps and points the baton at them.
// Every failure throws a JS TypeError/RangeError that names `where` and the argument.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "../cpu/ops.h"
#include "../cpu/pack.h"
#include "../cpu/pool/pool_nhwc.h"
#include "args.h"

namespace resnode::napi {

// Copies of an async op's inputs, owned by its worker (worker.h) and taken on
// the JS thread before the op leaves it: a caller that detaches an input's
// buffer (transfer, postMessage) or writes to it mid-run then changes nothing
// the kernel reads. A Napi::Reference keeps the typed array, not the memory
// behind it, alive, so referencing alone would not do. Outputs are written in
// place: the callers (src/ops.ts, Model's arenas) hand in buffers nobody else holds.
class InputCopies {
 public:
  // Returns a pointer to a copy of p[0, n) (nullptr for nullptr).
  const float* Own(const float* p, int64_t n) {
    if (!p) return p;
    copies_.emplace_back(p, p + n);  // moving a vector keeps its heap block: earlier pointers stay valid
    return copies_.back().data();
  }

 private:
  std::vector<std::vector<float>> copies_;
};

// The non-buffer arguments of a conv call (p: NativeConvParams), read and
// checked once for every device: dims in range, outDims the ONNX extent of the
// window (cpu::window_output_size). nx, ny: the floats x and y must hold.
struct ConvCall {
  cpu::Conv2dShape s{};
  bool relu = false;
  bool clip = false;  // p.clip given: a fused Clip(act.lo, act.hi) instead of relu
  cpu::Clamp act;     // the epilogue's clamp: relu's [0, +inf), p.clip's bounds, or none
  bool has_f = false;  // p.act given: f (fn, alpha, beta) after the clamp; its kernel is set by ParseConvParams
  cpu::Activation f;
  int threads = 0;
  int64_t nx = 0, ny = 0;
};
ConvCall ReadConvCall(Napi::Env env, const Napi::Value& p, const char* where);
// RangeError naming the field unless the call's dims are those the weights were packed with.
void RequireConvMatchesWeights(Napi::Env env, const cpu::Conv2dShape& s, int64_t c_out, int64_t kh,
                               int64_t kw, int64_t groups, int64_t c_in_per_group,
                               const char* where);

// The same for a pooling call (p: NativePoolParams; outDims at most ceil_mode's extent).
struct PoolCall {
  cpu::Pool2dShape s{};
  bool nhwc = false;  // p.nhwc: x and y are NHWC (dims still in NCHW order)
  int threads = 0;
  int64_t nx = 0, ny = 0;
};
PoolCall ReadPoolCall(Napi::Env env, const Napi::Value& p, const char* where);

// y = clamp(conv(x, W) + bias + residual, act.lo, act.hi) (ReLU, ReLU6, Clip or none)
struct ConvBaton {
  static constexpr const char* kName = "conv2d";
  std::shared_ptr<cpu::PackedConv> w;
  cpu::Conv2dShape s{};
  int64_t nx = 0, ny = 0;  // floats x, and y (and residual), must hold
  const float* x = nullptr;
  const float* residual = nullptr;
  float* y = nullptr;
  cpu::Clamp act;
  cpu::Activation f;  // after the clamp (SiLU, HardSwish, ...), its ISA's kernel; or none
  int threads = 0;
  cpu::ConvChoice choice;  // the kernel, chosen once when the call or plan step was parsed
  bool y_nhwc = false;     // p.yNhwc: y NHWC (no residual, no f), x NCHW
  void Run() {
    if (y_nhwc) cpu::conv2d_y_nhwc(s, *w, choice, x, act, y, threads);
    else cpu::conv2d(s, *w, choice, x, residual, act, f, y, threads);
  }
  void OwnInputs(InputCopies& c) {
    x = c.Own(x, nx);
    if (residual != y) residual = c.Own(residual, ny);  // y += conv(x) reads y itself
  }
};
// (packed, p: NativeConvParams)
ConvBaton ParseConvParams(Napi::Env env, const Napi::Value& packed, const Napi::Value& p,
                          const char* where);
// residual may be empty (F32{}), or y itself.
void BindConv(Napi::Env env, ConvBaton& b, const F32& x, const F32& residual, const F32& y,
              const char* where);

// y[m, nOut] = relu?(x[m, k] . W^T + bias)
struct GemmBaton {
  static constexpr const char* kName = "gemm";
  std::shared_ptr<cpu::PackedGemm> w;
  int64_t nx = 0, ny = 0;
  const float* x = nullptr;
  float* y = nullptr;
  int64_t m = 0;
  bool relu = false;
  int threads = 0;
  void Run() { cpu::gemm(*w, x, m, relu, y, threads); }
  void OwnInputs(InputCopies& c) { x = c.Own(x, nx); }
};
// (packed, m, relu, threads)
GemmBaton ParseGemmParams(Napi::Env env, const Napi::Value& packed, const Napi::Value& m,
                          const Napi::Value& relu, const Napi::Value& threads, const char* where);
void BindGemm(Napi::Env env, GemmBaton& b, const F32& x, const F32& y, const char* where);

// maxPool / averagePool
struct PoolBaton {
  static constexpr const char* kName = "pool";
  cpu::Pool2dShape s{};
  bool average = false, count_include_pad = false;
  int64_t nx = 0, ny = 0;
  const float* x = nullptr;
  float* y = nullptr;
  int threads = 0;
  cpu::Isa isa = cpu::Isa::scalar;  // the row kernels' ISA, fixed when parsed
  bool nhwc = false;                 // NHWC x and y: the kernels of pool_nhwc.h under isa
  void Run() {
    if (nhwc && average) cpu::average_pool2d_nhwc(s, count_include_pad, cpu::pool_nhwc_kernels(isa), x, y, threads);
    else if (nhwc) cpu::max_pool2d_nhwc(s, cpu::pool_nhwc_kernels(isa), x, y, threads);
    else if (average) cpu::average_pool2d(s, count_include_pad, x, y, threads, isa);
    else cpu::max_pool2d(s, x, y, threads, isa);
  }
  void OwnInputs(InputCopies& c) { x = c.Own(x, nx); }
};
// (p: NativePoolParams[, countIncludePad]); countIncludePad is read only when average.
PoolBaton ParsePoolParams(Napi::Env env, const Napi::Value& p, const Napi::Value& cip,
                          bool average, const char* where);
void BindPool(Napi::Env env, PoolBaton& b, const F32& x, const F32& y, const char* where);

// globalAveragePool: y[n, c] = mean over hw of x[n, c, hw] (or, nhwc, of x[n, hw, c])
struct GapBaton {
  static constexpr const char* kName = "globalAveragePool";
  int64_t n = 0, c = 0, hw = 0;
  int64_t nx = 0, ny = 0;
  const float* x = nullptr;
  float* y = nullptr;
  int threads = 0;
  cpu::Isa isa = cpu::Isa::scalar;
  bool nhwc = false;
  void Run() {
    if (nhwc) cpu::global_average_pool_nhwc(n, c, hw, cpu::pool_nhwc_kernels(isa), x, y, threads);
    else cpu::global_average_pool(n, c, hw, x, y, threads, isa);
  }
  void OwnInputs(InputCopies& copies) { x = copies.Own(x, nx); }
};
// (n, c, hw, threads, nhwc: a boolean or undefined (false))
GapBaton ParseGapParams(Napi::Env env, const Napi::Value& n, const Napi::Value& c,
                        const Napi::Value& hw, const Napi::Value& threads, const Napi::Value& nhwc,
                        const char* where);
void BindGap(Napi::Env env, GapBaton& b, const F32& x, const F32& y, const char* where);

// y = relu?(a + b) over `count` elements
struct AddBaton {
  static constexpr const char* kName = "add";
  const float* a = nullptr;
  const float* b = nullptr;
  float* y = nullptr;
  int64_t count = 0;
  bool relu = false;
  int threads = 0;
  cpu::Isa isa = cpu::Isa::scalar;  // fixed when the step is parsed
  void Run() { cpu::add(a, b, count, relu, y, threads, isa); }
  void OwnInputs(InputCopies& c) {
    if (a != y) a = c.Own(a, count);
    if (b != y) b = c.Own(b, count);
  }
};
// (relu, threads); the caller sets count.
AddBaton ParseAddParams(Napi::Env env, const Napi::Value& relu, const Napi::Value& threads,
                        const char* where);
// a, b and y must hold count floats; y may be a or b itself.
void BindAdd(Napi::Env env, AddBaton& t, const F32& a, const F32& b, const F32& y,
             const char* where);

}  // namespace resnode::napi
