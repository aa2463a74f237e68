// The CPU operator interface. Plain C++: nothing here knows about N-API.
// All tensors are float32, NCHW, dense and row-major. Callers (the N-API
// layer) have validated every shape; functions here assert invariants only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "activation.h"
#include "clamp.h"

namespace resnode::cpu {

// neon is arm64's only SIMD path: a build has either the x86 ones or neon,
// so the order only ranks paths of one architecture.
enum class Isa { scalar = 0, avx2 = 1, avx512 = 2, neon = 3 };

// The numerical mode of packed weights (src/modes.ts, one row each): exact
// computes every conv directly; fast also allows Winograd F(4x4,3x3) or
// F(2x2,3x3) for 3x3 stride-1 groups-1 convs. Chosen at pack time, carried in the handle.
enum class Precision { exact = 0, fast = 1, bf16 = 2 };
const char* precision_name(Precision p);  // "exact" | "fast" | "bf16"

// ONNX's (and PyTorch's) output extent of a conv or pool window along one axis:
// floor((in + p0 + p1 - (dil * (k - 1) + 1)) / stride) + 1, or with ceil_mode
// rounded up but never starting in the end padding. 0 where the window does not
// fit the padded input. The one C++ form of src/shapes.ts's rule.
int64_t window_output_size(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t p0,
                           int64_t p1, bool ceil_mode = false);

// Detected once by CPUID on x86-64 (NEON is always there on arm64); RESNODE_ISA
// (scalar|avx2|avx512|neon) caps it.
Isa detected_isa();
// The ISA new packings and kernels use. set_active_isa() clamps to detected_isa().
Isa active_isa();
void set_active_isa(Isa isa);
const char* isa_name(Isa isa);  // "scalar" | "avx2" | "avx512f" | "neon"

// Threads: a persistent pool shared by the process; the caller's thread joins in.
int default_threads();           // number of cores
int global_threads();            // setThreads(n) value, default default_threads()
void set_global_threads(int n);  // n >= 1

struct Conv2dShape {
  int64_t n, c_in, h, w;          // input dims
  int64_t c_out, kh, kw, groups;  // weight is [c_out, c_in/groups, kh, kw]
  int64_t stride_h, stride_w, dil_h, dil_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t out_h, out_w;           // already derived by the caller
};

// Weights packed once for the ISA active at packing time: the handle remembers
// it (its GEMM config, and the ISA of its direct, Winograd and fallback
// kernels), so a later setIsa() changes no kernel of these weights.
class PackedConv;
// With Precision::fast, 3x3 groups-1 convolutions use Winograd F(4x4,3x3) or
// F(2x2,3x3) where one is applicable and profitable (see winograd/winograd.h);
// its weights are transformed on the first call that uses them.
std::shared_ptr<PackedConv> pack_conv2d(const float* weight, const float* bias /*nullable*/,
                                        int64_t c_out, int64_t c_in_per_group, int64_t kh,
                                        int64_t kw, int64_t groups,
                                        Precision precision = Precision::exact);

// The fp32 FMA peak in GFLOP/s of `threads` threads running a register-only FMA
// loop on the active ISA, measured now (for benchmarks' "% of peak").
double measure_fma_peak_gflops(int threads);
// The vpdpbusd peak (GOP/s, 2 int ops per u8 x s8 multiply-add) of `threads` threads;
// requires cpu_features().avx512_vnni.
double measure_vnni_peak_gops(int threads);

// The kernel family of one conv, decided once per shape and packing (when a
// plan step or a call is parsed) from the packed weights alone: their
// precision and the ISA they were packed for.
enum class ConvPath { direct, dwconv, winograd, dconv, gemm };
struct ConvChoice {
  ConvPath path = ConvPath::gemm;
  int64_t tile = 0;                   // winograd: the output tile (4 or 2)
  const PackedConv* gemm = nullptr;   // gemm: the panels to run (w, or its fallback packing)
};
ConvChoice choose_conv2d(const Conv2dShape& s, const PackedConv& w);
// y = f(clamp(conv(x, W) + bias + residual)). residual (nullable) has y's
// shape; clamp to [lo, hi] (ReLU, ReLU6, Clip); f: an Activation or none. The
// bias, residual add and clamp are applied as each tile is stored, f to each
// tile just after (the GEMM and depthwise paths; the others after the conv).
void conv2d(const Conv2dShape& s, const PackedConv& w, const ConvChoice& choice,
            const float* x, const float* residual, Clamp clamp, const Activation& f, float* y,
            int threads);
// As conv2d with no residual and no f, y NHWC ([n][out_h][out_w][c_out]) from x NCHW: a stem on
// the graph input feeding NHWC layers. The direct-conv path stores its pixel-major tiles as they
// are; any other path writes NCHW into a scratch buffer and reorders it.
void conv2d_y_nhwc(const Conv2dShape& s, const PackedConv& w, const ConvChoice& choice, const float* x,
                   Clamp clamp, float* y, int threads);
// The same, choosing now; relu: act = [0, +inf).
void conv2d(const Conv2dShape& s, const PackedConv& w, const float* x, const float* residual,
            bool relu, float* y, int threads);
// The micro-kernel of a choice (that of its main tiles), e.g.
// "f32_dconv_14x32s1__avx512f", for per-layer profiles.
const char* conv2d_kernel(const Conv2dShape& s, const PackedConv& w, const ConvChoice& choice);
const char* conv2d_kernel(const Conv2dShape& s, const PackedConv& w);

// Fully connected: y[m, n] = sum_k x[m, k] * W[n, k] + bias[n]; W is [n_out, k].
class PackedGemm;
std::shared_ptr<PackedGemm> pack_gemm(const float* weight, const float* bias, int64_t n_out,
                                      int64_t k);
void gemm(const PackedGemm& w, const float* x, int64_t m, bool relu, float* y, int threads);
// The micro-kernel that gemm runs for m rows.
const char* gemm_kernel(const PackedGemm& w, int64_t m);

struct Pool2dShape {
  int64_t n, c, h, w;
  int64_t kh, kw, stride_h, stride_w, dil_h, dil_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t out_h, out_w;  // derived by the caller (ceil_mode already applied)
};
// isa: the row kernels' ISA, fixed by the caller when it plans the call.
void max_pool2d(const Pool2dShape& s, const float* x, float* y, int threads,
                Isa isa = active_isa());
// count_include_pad: divide by kh*kw (clipped to the padded extent) rather than
// by the number of in-bounds taps, as ONNX AveragePool defines it. isa: as max_pool2d's.
void average_pool2d(const Pool2dShape& s, bool count_include_pad, const float* x, float* y,
                    int threads, Isa isa = active_isa());
// y[p] = mean of plane p (n * c planes of hw floats). isa: as max_pool2d's.
void global_average_pool(int64_t n, int64_t c, int64_t hw, const float* x, float* y, int threads,
                         Isa isa = active_isa());
// The plane-sum kernel global_average_pool runs under `isa`, for profiles.
const char* global_average_pool_kernel_name(Isa isa);
// y = a + b (same shape), optional ReLU (NaN -> 0, as the JS kernel and the binary step do), on
// the binary row kernel of `isa` (f32_vbinary__<isa>), split over the pool for large arrays.
void add(const float* a, const float* b, int64_t count, bool relu, float* y, int threads,
         Isa isa = active_isa());
// Integer-exact requantization of [outer, channels, inner] (src/graph/graph.ts RequantizeNode):
// y = (clamp(round_half_even(x * multipliers[c] / divisor) + zero_point, qmin, qmax) - zero_point)
//     * out_scale, with multipliers of length 1 or `channels`. y may be x.
struct Requant {
  const float* multipliers = nullptr;
  int64_t n_multipliers = 1;
  float divisor = 1.f, out_scale = 1.f;
  double zero_point = 0, qmin = 0, qmax = 255;
};
void requantize(const float* x, int64_t count, int64_t channels, int64_t inner, const Requant& r,
                float* y);
// The coefficients of ONNX Runtime's QLinearAdd on dequantized operands (src/quant/qlinear-add.ts
// forms them and gives the formula); the kernels are eltwise/f32_qlinear_vadd__<isa>.cc.
struct QLinearAdd {
  float a_scale = 1.f, b_scale = 1.f, ratio_a = 1.f, ratio_b = 1.f, fixed = 0.f, out_scale = 1.f;
  int32_t a_zero_point = 0, b_zero_point = 0, shift = 0, zero_point = 0, qmin = 0, qmax = 255;
};

}  // namespace resnode::cpu
