#include <cuda_runtime.h>

#include <climits>
#include <stdexcept>
#include <vector>

#include "conv2d.cuh"
#include "epilogue.cuh"
#include "tiling.cuh"

namespace resnode::cuda {
namespace {

constexpr int BK = kPackKAlign;  // 16

struct ConvArgs {
  ConvGeom g;
  const float* x;
  const float* a;  // packed A^T [groups][Kpad][Mpad]
  const float* bias;
  const KEntry* ktab;
  const float* residual;
  float* y;
  int relu;
};

__device__ __forceinline__ float tf32_round(float f) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(f));
  return __uint_as_float(r);
}

// D = A*B + D for one m16n8k8 TF32 tile (fragment layout: see tiling.cuh).
__device__ __forceinline__ void mma_tf32(float (&d)[4], const uint32_t (&a)[4],
                                         const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Global -> registers -> shared staging of one BK slice (register double buffering:
// the next slice is fetched while the current one is multiplied).
template <class L, bool IS1X1>
struct Loader {
  float4 ra[L::A_VEC];
  float rb[L::B_ELEMS];
  BColumn col;
  const float* a_base;

  __device__ __forceinline__ void init(const ConvArgs& p, int group, int m0, int n0) {
    const int t = threadIdx.x;
    col = b_column(p.g, group, static_cast<int64_t>(n0) + L::b_n(t));
    a_base = p.a + static_cast<size_t>(group) * p.g.Kpad * p.g.Mpad + m0 + L::a_m(t);
  }

  __device__ __forceinline__ void load(const ConvArgs& p, int k0) {
    const int t = threadIdx.x;
#pragma unroll
    for (int i = 0; i < L::A_VEC; ++i) {
      ra[i] = __ldg(reinterpret_cast<const float4*>(
          a_base + static_cast<size_t>(k0 + L::a_k(t, i)) * p.g.Mpad));
    }
#pragma unroll
    for (int i = 0; i < L::B_ELEMS; ++i) {
      const int k = k0 + L::b_k(t, i);
      float v = 0.f;
      if (col.valid && k < p.g.K) {
        if (IS1X1) {
          v = __ldg(p.x + b_offset_1x1(p.g, col, k));
        } else {
          const int2 e2 = __ldg(reinterpret_cast<const int2*>(p.ktab) + k);
          const int64_t off = b_offset(p.g, col, KEntry{e2.x, e2.y});
          if (off >= 0) v = __ldg(p.x + off);
        }
      }
      rb[i] = v;
    }
  }

  template <bool ROUND>
  __device__ __forceinline__ void store(float* as, float* bs) const {
    const int t = threadIdx.x;
#pragma unroll
    for (int i = 0; i < L::A_VEC; ++i) {
      float4 v = ra[i];
      if (ROUND) {
        v.x = tf32_round(v.x);
        v.y = tf32_round(v.y);
        v.z = tf32_round(v.z);
        v.w = tf32_round(v.w);
      }
      *reinterpret_cast<float4*>(as + L::a_k(t, i) * L::AS + L::a_m(t)) = v;
    }
#pragma unroll
    for (int i = 0; i < L::B_ELEMS; ++i) {
      bs[L::b_k(t, i) * L::BS + L::b_n(t)] = ROUND ? tf32_round(rb[i]) : rb[i];
    }
  }
};

// Epilogue for one output column: base = conv_output_base(n) or -1 when n >= N.
__device__ __forceinline__ void store_output(const ConvArgs& p, int group, int m, int64_t base,
                                             float acc) {
  if (m >= p.g.M || base < 0) return;
  const int co = group * p.g.M + m;
  const int64_t idx = base + static_cast<int64_t>(co) * p.g.ohw;
  const float b = p.bias ? __ldg(p.bias + co) : 0.f;
  const float r = p.residual ? __ldg(p.residual + idx) : 0.f;
  p.y[idx] = apply_epilogue(acc, b, r, p.relu != 0);
}

__device__ __forceinline__ int64_t column_base(const ConvArgs& p, int n) {
  return n < p.g.N ? conv_output_base(n, p.g.c_out, p.g.ohw) : -1;
}

// Tensor-core path: BM x BN block tile, WARPS_M x WARPS_N warps, mma.sync TF32.
template <int BM, int BN, int WARPS_M, int WARPS_N, bool IS1X1>
__global__ void __launch_bounds__(32 * WARPS_M * WARPS_N)
    conv_tf32_kernel(const ConvArgs p) {
  using T = MmaTiling<BM, BN, WARPS_M, WARPS_N>;
  using L = TileLoad<BM, BN, BK, T::THREADS>;
  __shared__ __align__(16) float As[2][BK * L::AS];
  __shared__ __align__(16) float Bs[2][BK * L::BS];

  const int group = blockIdx.z;
  const int m0 = blockIdx.y * BM;
  const int n0 = blockIdx.x * BN;
  const int t = threadIdx.x, lane = t & 31, warp = t >> 5;
  const int wm0 = T::warp_m0(warp), wn0 = T::warp_n0(warp);

  Loader<L, IS1X1> ld;
  ld.init(p, group, m0, n0);
  float acc[T::MI][T::NI][4];
#pragma unroll
  for (int i = 0; i < T::MI; ++i)
#pragma unroll
    for (int j = 0; j < T::NI; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;

  const int ktiles = p.g.Kpad / BK;
  ld.load(p, 0);
  ld.template store<true>(As[0], Bs[0]);
  __syncthreads();

  for (int kt = 0; kt < ktiles; ++kt) {
    const int cur = kt & 1;
    const bool more = kt + 1 < ktiles;
    if (more) ld.load(p, (kt + 1) * BK);
    const float* as = As[cur];
    const float* bs = Bs[cur];
#pragma unroll
    for (int kk = 0; kk < BK; kk += 8) {
      uint32_t af[T::MI][4], bf[T::NI][2];
#pragma unroll
      for (int mi = 0; mi < T::MI; ++mi)
#pragma unroll
        for (int r = 0; r < 4; ++r)
          af[mi][r] = __float_as_uint(
              as[(kk + mma_a_col(lane, r)) * L::AS + wm0 + mi * 16 + mma_a_row(lane, r)]);
#pragma unroll
      for (int ni = 0; ni < T::NI; ++ni)
#pragma unroll
        for (int r = 0; r < 2; ++r)
          bf[ni][r] = __float_as_uint(
              bs[(kk + mma_b_row(lane, r)) * L::BS + wn0 + ni * 8 + mma_b_col(lane, r)]);
#pragma unroll
      for (int mi = 0; mi < T::MI; ++mi)
#pragma unroll
        for (int ni = 0; ni < T::NI; ++ni) mma_tf32(acc[mi][ni], af[mi], bf[ni]);
    }
    if (more) ld.template store<true>(As[cur ^ 1], Bs[cur ^ 1]);
    __syncthreads();
  }

  // Each thread owns 2*NI output columns: decompose each n once.
  int64_t base[T::NI][2];
#pragma unroll
  for (int ni = 0; ni < T::NI; ++ni)
#pragma unroll
    for (int c = 0; c < 2; ++c) base[ni][c] = column_base(p, n0 + T::acc_n(t, ni, c));
#pragma unroll
  for (int mi = 0; mi < T::MI; ++mi)
#pragma unroll
    for (int ni = 0; ni < T::NI; ++ni)
#pragma unroll
      for (int r = 0; r < 4; ++r)
        store_output(p, group, m0 + T::acc_m(t, mi, r), base[ni][r & 1], acc[mi][ni][r]);
}

// Exact FP32 path: each thread accumulates a TM x TN micro-tile with FMAs in
// k order.
template <int BM, int BN, int TM, int TN, bool IS1X1>
__global__ void __launch_bounds__((BM / TM) * (BN / TN)) conv_fp32_kernel(const ConvArgs p) {
  using T = SimtTiling<BM, BN, TM, TN>;
  using L = TileLoad<BM, BN, BK, T::THREADS>;
  __shared__ __align__(16) float As[2][BK * L::AS];
  __shared__ __align__(16) float Bs[2][BK * L::BS];

  const int group = blockIdx.z;
  const int m0 = blockIdx.y * BM;
  const int n0 = blockIdx.x * BN;
  const int t = threadIdx.x;

  Loader<L, IS1X1> ld;
  ld.init(p, group, m0, n0);
  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.f;

  const int ktiles = p.g.Kpad / BK;
  ld.load(p, 0);
  ld.template store<false>(As[0], Bs[0]);
  __syncthreads();

  for (int kt = 0; kt < ktiles; ++kt) {
    const int cur = kt & 1;
    const bool more = kt + 1 < ktiles;
    if (more) ld.load(p, (kt + 1) * BK);
    const float* as = As[cur];
    const float* bs = Bs[cur];
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      float a[TM], b[TN];
#pragma unroll
      for (int c = 0; c < T::CM; ++c) {
        const float4 v = *reinterpret_cast<const float4*>(as + k * L::AS + T::row(t, c * 4));
        a[c * 4 + 0] = v.x;
        a[c * 4 + 1] = v.y;
        a[c * 4 + 2] = v.z;
        a[c * 4 + 3] = v.w;
      }
#pragma unroll
      for (int c = 0; c < T::CN; ++c) {
        const float4 v = *reinterpret_cast<const float4*>(bs + k * L::BS + T::col(t, c * 4));
        b[c * 4 + 0] = v.x;
        b[c * 4 + 1] = v.y;
        b[c * 4 + 2] = v.z;
        b[c * 4 + 3] = v.w;
      }
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    if (more) ld.template store<false>(As[cur ^ 1], Bs[cur ^ 1]);
    __syncthreads();
  }

  int64_t base[TN];
#pragma unroll
  for (int j = 0; j < TN; ++j) base[j] = column_base(p, n0 + T::col(t, j));
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) store_output(p, group, m0 + T::row(t, i), base[j], acc[i][j]);
}

enum class Tile { big, small };

template <bool IS1X1>
void launch(MathMode mode, Tile tile, const ConvArgs& a, cudaStream_t st) {
  const int64_t N = a.g.N, M = a.g.M;
  if (mode == MathMode::tf32) {
    if (tile == Tile::big) {
      dim3 grid(ceil_div(N, 128), ceil_div(M, 128), a.g.groups);
      conv_tf32_kernel<128, 128, 2, 4, IS1X1><<<grid, 256, 0, st>>>(a);
    } else {
      dim3 grid(ceil_div(N, 64), ceil_div(M, 64), a.g.groups);
      conv_tf32_kernel<64, 64, 2, 2, IS1X1><<<grid, 128, 0, st>>>(a);
    }
  } else {
    if (tile == Tile::big) {
      dim3 grid(ceil_div(N, 128), ceil_div(M, 128), a.g.groups);
      conv_fp32_kernel<128, 128, 8, 8, IS1X1><<<grid, 256, 0, st>>>(a);
    } else {
      dim3 grid(ceil_div(N, 64), ceil_div(M, 64), a.g.groups);
      conv_fp32_kernel<64, 64, 4, 4, IS1X1><<<grid, 256, 0, st>>>(a);
    }
  }
}

bool is_direct_1x1(const Conv2dShape& s) {
  return s.kh == 1 && s.kw == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 &&
         s.pad_left == 0 && s.out_h == s.h && s.out_w == s.w;
}

Tile pick_tile(Context& ctx, const Conv2dShape& s) {
  const int64_t M = s.c_out / s.groups, N = s.n * s.out_h * s.out_w;
  const int64_t big_blocks = ceil_div(N, 128) * ceil_div(M, 128) * s.groups;
  return big_blocks >= ctx.sm_count() ? Tile::big : Tile::small;
}

void need(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(std::string("cuda conv2d: ") + what);
}

}  // namespace

const char* math_mode_name(MathMode m) { return m == MathMode::tf32 ? "tf32" : "fp32"; }

ConvWeights::~ConvWeights() {
  int prev = 0;
  cudaGetDevice(&prev);
  cudaSetDevice(device);
  // Kernels on any context's stream may still read these weights.
  cudaDeviceSynchronize();
  cudaFree(a);
  cudaFree(bias);
  cudaFree(ktab);
  cudaSetDevice(prev);
}

std::shared_ptr<ConvWeights> pack_conv2d(Context& ctx, const float* weight, const float* bias,
                                         int64_t c_out, int64_t c_in_per_group, int64_t kh,
                                         int64_t kw, int64_t groups) {
  need(groups >= 1 && c_out % groups == 0, "c_out must be a multiple of groups");
  auto w = std::make_shared<ConvWeights>();
  w->device = ctx.device();
  w->c_out = c_out;
  w->c_in_per_group = c_in_per_group;
  w->kh = kh;
  w->kw = kw;
  w->groups = groups;
  w->M = c_out / groups;
  w->K = c_in_per_group * kh * kw;
  w->Mpad = round_up(w->M, kPackMAlign);
  w->Kpad = round_up(w->K, kPackKAlign);
  need(w->K < INT32_MAX / 2 && w->Mpad * w->Kpad * groups < (int64_t(1) << 40), "weights too large");
  need(kh < 32768 && kw < 32768, "kernel too large");

  std::vector<float> at(static_cast<size_t>(groups * w->Kpad * w->Mpad), 0.f);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t m = 0; m < w->M; ++m)
      for (int64_t k = 0; k < w->K; ++k)
        at[static_cast<size_t>((g * w->Kpad + k) * w->Mpad + m)] = weight[(g * w->M + m) * w->K + k];
  std::vector<KEntry> tab(static_cast<size_t>(w->K));
  for (int64_t k = 0; k < w->K; ++k) tab[static_cast<size_t>(k)] = make_kentry(k, kh, kw);

  ctx.activate();
  RN_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&w->a), at.size() * sizeof(float)));
  RN_CUDA_CHECK(cudaMemcpy(w->a, at.data(), at.size() * sizeof(float), cudaMemcpyHostToDevice));
  RN_CUDA_CHECK(cudaMalloc(&w->ktab, tab.size() * sizeof(KEntry)));
  RN_CUDA_CHECK(cudaMemcpy(w->ktab, tab.data(), tab.size() * sizeof(KEntry), cudaMemcpyHostToDevice));
  if (bias) {
    RN_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&w->bias), c_out * sizeof(float)));
    RN_CUDA_CHECK(cudaMemcpy(w->bias, bias, c_out * sizeof(float), cudaMemcpyHostToDevice));
  }
  return w;
}

const char* conv2d_kernel_name(Context& ctx, const Conv2dShape& s, MathMode mode) {
  const bool d = is_direct_1x1(s);
  const bool big = pick_tile(ctx, s) == Tile::big;
  if (mode == MathMode::tf32) {
    if (big) return d ? "tf32_128x128_1x1" : "tf32_128x128";
    return d ? "tf32_64x64_1x1" : "tf32_64x64";
  }
  if (big) return d ? "fp32_128x128_1x1" : "fp32_128x128";
  return d ? "fp32_64x64_1x1" : "fp32_64x64";
}

void conv2d(Context& ctx, const Conv2dShape& s, const ConvWeights& w, const float* x,
            const float* residual, bool relu, float* y, MathMode mode) {
  need(s.c_out == w.c_out && s.kh == w.kh && s.kw == w.kw && s.groups == w.groups &&
           s.c_in == w.c_in_per_group * w.groups,
       "shape does not match the packed weights");
  need(w.device == ctx.device(), "weights were packed on another device");
  const int64_t N = s.n * s.out_h * s.out_w;
  need(N < INT32_MAX && s.h * s.w < INT32_MAX && s.out_h * s.out_w < INT32_MAX, "tensor too large");
  if (N == 0 || s.c_out == 0) return;

  ConvArgs a{};
  ConvGeom& g = a.g;
  g.M = static_cast<int32_t>(w.M);
  g.N = static_cast<int32_t>(N);
  g.K = static_cast<int32_t>(w.K);
  g.Kpad = static_cast<int32_t>(w.Kpad);
  g.Mpad = static_cast<int32_t>(w.Mpad);
  g.groups = static_cast<int32_t>(s.groups);
  g.c_in = static_cast<int32_t>(s.c_in);
  g.h = static_cast<int32_t>(s.h);
  g.w = static_cast<int32_t>(s.w);
  g.c_out = static_cast<int32_t>(s.c_out);
  g.oh = static_cast<int32_t>(s.out_h);
  g.ow = static_cast<int32_t>(s.out_w);
  g.ohw = static_cast<int32_t>(s.out_h * s.out_w);
  g.hw = static_cast<int32_t>(s.h * s.w);
  g.cin_g = static_cast<int32_t>(w.c_in_per_group);
  g.sh = static_cast<int32_t>(s.stride_h);
  g.sw = static_cast<int32_t>(s.stride_w);
  g.pad_t = static_cast<int32_t>(s.pad_top);
  g.pad_l = static_cast<int32_t>(s.pad_left);
  g.dh = static_cast<int32_t>(s.dil_h);
  g.dw = static_cast<int32_t>(s.dil_w);
  a.x = x;
  a.a = w.a;
  a.bias = w.bias;
  a.ktab = static_cast<const KEntry*>(w.ktab);
  a.residual = residual;
  a.y = y;
  a.relu = relu ? 1 : 0;

  ctx.activate();
  const Tile tile = pick_tile(ctx, s);
  if (is_direct_1x1(s)) {
    launch<true>(mode, tile, a, ctx.stream());
  } else {
    launch<false>(mode, tile, a, ctx.stream());
  }
  Context::check_launch("conv2d kernel launch");
}

}  // namespace resnode::cuda
