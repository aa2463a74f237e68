// Host-side tests of the CUDA kernels' index math, tiling, fragment layouts and
// epilogue (native/cuda/*.cuh). Needs no GPU and no CUDA runtime: it replays
// what each thread of a conv kernel does, with the same __host__ __device__
// functions, and compares with a naive float64 convolution.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <type_traits>
#include <vector>

#include "../epilogue.cuh"
#include "../tiling.cuh"

using namespace resnode::cuda;

static int failures = 0;
#define EXPECT(cond, ...)                                      \
  do {                                                         \
    if (!(cond)) {                                             \
      ++failures;                                              \
      std::printf("FAIL %s:%d: %s  ", __FILE__, __LINE__, #cond); \
      std::printf(__VA_ARGS__);                                \
      std::printf("\n");                                       \
    }                                                          \
  } while (0)

struct Shape {
  int n, c_in, h, w, c_out, kh, kw, groups, sh, sw, dh, dw, pt, pl, pb, pr;
  int oh() const { return (h + pt + pb - dh * (kh - 1) - 1) / sh + 1; }
  int ow() const { return (w + pl + pr - dw * (kw - 1) - 1) / sw + 1; }
};

static std::vector<double> naive_conv(const Shape& s, const std::vector<float>& x,
                                      const std::vector<float>& wt, const std::vector<float>& bias,
                                      const std::vector<float>* res, bool relu) {
  const int OH = s.oh(), OW = s.ow(), cig = s.c_in / s.groups, cog = s.c_out / s.groups;
  std::vector<double> y(static_cast<size_t>(s.n) * s.c_out * OH * OW);
  for (int b = 0; b < s.n; ++b)
    for (int co = 0; co < s.c_out; ++co) {
      const int g = co / cog;
      for (int oh = 0; oh < OH; ++oh)
        for (int ow = 0; ow < OW; ++ow) {
          double acc = 0;
          for (int ci = 0; ci < cig; ++ci)
            for (int r = 0; r < s.kh; ++r)
              for (int q = 0; q < s.kw; ++q) {
                const int ih = oh * s.sh - s.pt + r * s.dh, iw = ow * s.sw - s.pl + q * s.dw;
                if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                acc += double(x[((size_t(b) * s.c_in + g * cig + ci) * s.h + ih) * s.w + iw]) *
                       wt[((size_t(co) * cig + ci) * s.kh + r) * s.kw + q];
              }
          const size_t idx = ((size_t(b) * s.c_out + co) * OH + oh) * OW + ow;
          acc += bias[co];
          if (res) acc += (*res)[idx];
          y[idx] = relu ? std::max(acc, 0.0) : acc;
        }
    }
  return y;
}

static ConvGeom make_geom(const Shape& s, int64_t Kpad, int64_t Mpad) {
  ConvGeom g{};
  g.M = s.c_out / s.groups;
  g.N = s.n * s.oh() * s.ow();
  g.K = s.c_in / s.groups * s.kh * s.kw;
  g.Kpad = static_cast<int32_t>(Kpad);
  g.Mpad = static_cast<int32_t>(Mpad);
  g.groups = s.groups;
  g.c_in = s.c_in;
  g.h = s.h;
  g.w = s.w;
  g.c_out = s.c_out;
  g.oh = s.oh();
  g.ow = s.ow();
  g.ohw = g.oh * g.ow;
  g.hw = s.h * s.w;
  g.cin_g = s.c_in / s.groups;
  g.sh = s.sh;
  g.sw = s.sw;
  g.pad_t = s.pt;
  g.pad_l = s.pl;
  g.dh = s.dh;
  g.dw = s.dw;
  return g;
}

static bool is_direct_1x1(const Shape& s) {
  return s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pt == 0 && s.pl == 0 &&
         s.pb == 0 && s.pr == 0;
}

// Replays one conv kernel configuration on the host, thread by thread, using
// the same loader mapping, shared layout, fragment coordinates and epilogue as
// native/cuda/conv2d.cu. MMA=true replays the TF32 tensor-core kernel (with
// TF32 rounding of both operands), false the FP32 SIMT kernel.
template <bool MMA, int BM, int BN, int P1, int P2>
static std::vector<float> replay_conv(const Shape& s, const std::vector<float>& x,
                                      const std::vector<float>& wt, const std::vector<float>& bias,
                                      const std::vector<float>* res, bool relu) {
  using T = std::conditional_t<MMA, MmaTiling<BM, BN, P1, P2>, SimtTiling<BM, BN, P1, P2>>;
  constexpr int THREADS = T::THREADS;
  using L = TileLoad<BM, BN, kPackKAlign, THREADS>;
  constexpr int BK = L::BK;
  const int M = s.c_out / s.groups, K = s.c_in / s.groups * s.kh * s.kw;
  const int64_t Mpad = round_up(M, kPackMAlign), Kpad = round_up(K, kPackKAlign);
  // Pack A^T exactly as pack_conv2d does.
  std::vector<float> at(size_t(s.groups * Kpad * Mpad), 0.f);
  for (int g = 0; g < s.groups; ++g)
    for (int m = 0; m < M; ++m)
      for (int k = 0; k < K; ++k) at[size_t((g * Kpad + k) * Mpad + m)] = wt[size_t(g * M + m) * K + k];
  std::vector<KEntry> tab(K);
  for (int k = 0; k < K; ++k) tab[k] = make_kentry(k, s.kh, s.kw);
  const ConvGeom geo = make_geom(s, Kpad, Mpad);
  const bool direct = is_direct_1x1(s);
  std::vector<float> y(size_t(s.n) * s.c_out * geo.ohw, NAN);
  std::vector<int> writes(y.size(), 0);
  auto rnd = [](float v) { return MMA ? round_tf32_host(v) : v; };

  std::vector<float> As(BK * L::AS), Bs(BK * L::BS);
  const int gx = int(ceil_div(geo.N, BN)), gy = int(ceil_div(M, BM));
  for (int grp = 0; grp < s.groups; ++grp)
    for (int by = 0; by < gy; ++by)
      for (int bx = 0; bx < gx; ++bx) {
        const int m0 = by * BM, n0 = bx * BN;
        std::vector<float> acc(size_t(THREADS) * BM * BN / THREADS, 0.f);  // per thread slots
        for (int kt = 0; kt < Kpad / BK; ++kt) {
          const int k0 = kt * BK;
          std::fill(As.begin(), As.end(), NAN);
          std::fill(Bs.begin(), Bs.end(), NAN);
          for (int t = 0; t < THREADS; ++t) {  // Loader::load + Loader::store
            const BColumn col = b_column(geo, grp, int64_t(n0) + L::b_n(t));
            const float* a_base = at.data() + size_t(grp) * Kpad * Mpad + m0 + L::a_m(t);
            for (int i = 0; i < L::A_VEC; ++i)
              for (int j = 0; j < 4; ++j)
                As[L::a_k(t, i) * L::AS + L::a_m(t) + j] = rnd(a_base[size_t(k0 + L::a_k(t, i)) * Mpad + j]);
            for (int i = 0; i < L::B_ELEMS; ++i) {
              const int k = k0 + L::b_k(t, i);
              float v = 0.f;
              if (col.valid && k < geo.K) {
                if (direct) {
                  v = x[size_t(b_offset_1x1(geo, col, k))];
                } else {
                  const int64_t off = b_offset(geo, col, tab[k]);
                  if (off >= 0) v = x[size_t(off)];
                }
              }
              Bs[L::b_k(t, i) * L::BS + L::b_n(t)] = rnd(v);
            }
          }
          if constexpr (MMA) {
            using TM = T;
            for (int warp = 0; warp < THREADS / 32; ++warp)
              for (int kk = 0; kk < BK; kk += 8)
                for (int mi = 0; mi < TM::MI; ++mi)
                  for (int ni = 0; ni < TM::NI; ++ni) {
                    // Gather every lane's fragments as the kernel does, then run
                    // the m16n8k8 product defined by the fragment layout.
                    float A[16][8], B[8][8];
                    for (int lane = 0; lane < 32; ++lane) {
                      for (int r = 0; r < 4; ++r)
                        A[mma_a_row(lane, r)][mma_a_col(lane, r)] =
                            As[(kk + mma_a_col(lane, r)) * L::AS + TM::warp_m0(warp) + mi * 16 + mma_a_row(lane, r)];
                      for (int r = 0; r < 2; ++r)
                        B[mma_b_row(lane, r)][mma_b_col(lane, r)] =
                            Bs[(kk + mma_b_row(lane, r)) * L::BS + TM::warp_n0(warp) + ni * 8 + mma_b_col(lane, r)];
                    }
                    for (int lane = 0; lane < 32; ++lane) {
                      const int t = warp * 32 + lane;
                      for (int r = 0; r < 4; ++r) {
                        float d = 0.f;
                        for (int q = 0; q < 8; ++q) d += A[mma_c_row(lane, r)][q] * B[q][mma_c_col(lane, r)];
                        acc[size_t(t) * (TM::MI * TM::NI * 4) + (mi * TM::NI + ni) * 4 + r] += d;
                      }
                    }
                  }
          } else {
            using TS = T;
            for (int t = 0; t < THREADS; ++t)
              for (int k = 0; k < BK; ++k)
                for (int i = 0; i < TS::TM; ++i)
                  for (int j = 0; j < TS::TN; ++j)
                    acc[size_t(t) * TS::TM * TS::TN + i * TS::TN + j] = std::fma(
                        As[k * L::AS + TS::row(t, i)], Bs[k * L::BS + TS::col(t, j)],
                        acc[size_t(t) * TS::TM * TS::TN + i * TS::TN + j]);
          }
        }
        // Epilogue (store_output).
        auto store = [&](int m, int64_t n, float a) {
          // As store_output/column_base in conv2d.cu.
          const int64_t base = n < geo.N ? conv_output_base(int32_t(n), geo.c_out, geo.ohw) : -1;
          if (m >= geo.M || base < 0) return;
          const int co = grp * geo.M + m;
          const int64_t idx = base + int64_t(co) * geo.ohw;
          y[size_t(idx)] = apply_epilogue(a, bias[co], res ? (*res)[size_t(idx)] : 0.f, relu);
          writes[size_t(idx)]++;
        };
        for (int t = 0; t < THREADS; ++t) {
          if constexpr (MMA) {
            using TM = T;
            for (int mi = 0; mi < TM::MI; ++mi)
              for (int ni = 0; ni < TM::NI; ++ni)
                for (int r = 0; r < 4; ++r)
                  store(m0 + TM::acc_m(t, mi, r), int64_t(n0) + TM::acc_n(t, ni, r),
                        acc[size_t(t) * (TM::MI * TM::NI * 4) + (mi * TM::NI + ni) * 4 + r]);
          } else {
            using TS = T;
            for (int i = 0; i < TS::TM; ++i)
              for (int j = 0; j < TS::TN; ++j)
                store(m0 + TS::row(t, i), int64_t(n0) + TS::col(t, j), acc[size_t(t) * TS::TM * TS::TN + i * TS::TN + j]);
          }
        }
      }
  for (size_t i = 0; i < writes.size(); ++i)
    if (writes[i] != 1) {
      EXPECT(writes[i] == 1, "output %zu written %d times", i, writes[i]);
      break;
    }
  return y;
}

static double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double e : v) m = std::max(m, std::fabs(e));
  return m;
}

template <bool MMA, int BM, int BN, int P1, int P2>
static void check_conv(const char* name, const Shape& s, std::mt19937& rng) {
  std::uniform_real_distribution<float> U(-1.f, 1.f);
  std::vector<float> x(size_t(s.n) * s.c_in * s.h * s.w), wt(size_t(s.c_out) * (s.c_in / s.groups) * s.kh * s.kw),
      bias(s.c_out), res(size_t(s.n) * s.c_out * s.oh() * s.ow());
  for (auto& v : x) v = U(rng);
  for (auto& v : wt) v = U(rng);
  for (auto& v : bias) v = U(rng);
  for (auto& v : res) v = U(rng);
  const bool relu = (s.c_out & 1) == 0;
  const bool with_res = (s.c_in & 1) == 0;
  const auto ref = naive_conv(s, x, wt, bias, with_res ? &res : nullptr, relu);
  const auto got = replay_conv<MMA, BM, BN, P1, P2>(s, x, wt, bias, with_res ? &res : nullptr, relu);
  const double scale = std::max(max_abs(ref), 1e-30);
  const double tol = MMA ? 1e-3 : 1e-5;  // the documented TF32 / FP32 tolerances (·max|e|)
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(got[i] - ref[i]) / scale);
  EXPECT(worst <= tol, "%s n=%d cin=%d %dx%d cout=%d k=%dx%d g=%d s=%d,%d d=%d,%d p=%d,%d,%d,%d: err %.3g > %.1g",
         name, s.n, s.c_in, s.h, s.w, s.c_out, s.kh, s.kw, s.groups, s.sh, s.sw, s.dh, s.dw, s.pt, s.pl, s.pb, s.pr,
         worst, tol);
}

// Fragment reads must hit 32 distinct banks per warp (no conflicts).
template <int STRIDE>
static void check_banks() {
  for (int r = 0; r < 4; ++r) {
    std::set<int> banks;
    for (int lane = 0; lane < 32; ++lane) banks.insert((mma_a_col(lane, r) * STRIDE + mma_a_row(lane, r)) % 32);
    EXPECT(banks.size() == 32, "A fragment r=%d stride %d: %zu banks", r, STRIDE, banks.size());
  }
  for (int r = 0; r < 2; ++r) {
    std::set<int> banks;
    for (int lane = 0; lane < 32; ++lane) banks.insert((mma_b_row(lane, r) * STRIDE + mma_b_col(lane, r)) % 32);
    EXPECT(banks.size() == 32, "B fragment r=%d stride %d: %zu banks", r, STRIDE, banks.size());
  }
}

template <class L>
static void check_loader() {
  std::vector<int> a(L::BK * L::BM, 0), b(L::BK * L::BN, 0);
  for (int t = 0; t < L::THREADS; ++t) {
    for (int i = 0; i < L::A_VEC; ++i)
      for (int j = 0; j < 4; ++j) a[L::a_k(t, i) * L::BM + L::a_m(t) + j]++;
    for (int i = 0; i < L::B_ELEMS; ++i) b[L::b_k(t, i) * L::BN + L::b_n(t)]++;
  }
  for (int v : a) EXPECT(v == 1, "A tile element loaded %d times (BM=%d)", v, L::BM);
  for (int v : b) EXPECT(v == 1, "B tile element loaded %d times (BN=%d)", v, L::BN);
  // Consecutive threads of a warp read consecutive n (coalesced B gathers).
  for (int t = 0; t + 1 < 32; ++t) EXPECT(L::b_n(t + 1) == L::b_n(t) + 1, "B loads not coalesced");
}

static void check_epilogue_and_pool() {
  EXPECT(apply_epilogue(1.f, 2.f, 3.f, false) == 6.f, "plain");
  EXPECT(apply_epilogue(1.f, -2.f, -3.f, true) == 0.f, "relu clamps");
  EXPECT(apply_epilogue(-1.f, 0.5f, 0.f, false) == -0.5f, "no relu keeps negatives");
  EXPECT(conv_output_index(3, 10, 8, 7) == (1 * 8 + 3) * 7 + 3, "output index folds batch");
  EXPECT(round_tf32_host(1.0f) == 1.0f, "tf32 exact");
  EXPECT(round_tf32_host(1.0f + 1.0f / 2048) == 1.0f + 1.0f / 1024, "tf32 ties away");
  EXPECT(round_tf32_host(1.0f + 1.0f / 4096) == 1.0f, "tf32 rounds down");
  // AveragePool divisors against a direct count.
  PoolGeom g{};
  g.n = 1; g.c = 1; g.h = 5; g.w = 6; g.kh = 3; g.kw = 3; g.sh = 2; g.sw = 2; g.dh = 1; g.dw = 1;
  g.pad_t = 1; g.pad_l = 1; g.pad_b = 2; g.pad_r = 1; g.oh = 3; g.ow = 3;
  for (int oh = 0; oh < g.oh; ++oh)
    for (int ow = 0; ow < g.ow; ++ow) {
      int in = 0, pad = 0;
      for (int r = 0; r < 3; ++r)
        for (int q = 0; q < 3; ++q) {
          const int ih = oh * 2 - 1 + r, iw = ow * 2 - 1 + q;
          in += (ih >= 0 && ih < 5 && iw >= 0 && iw < 6);
          pad += (ih >= -1 && ih < 7 && iw >= -1 && iw < 7);
        }
      EXPECT(avg_pool_divisor(g, oh, ow, false) == in, "avg divisor (%d,%d)", oh, ow);
      EXPECT(avg_pool_divisor(g, oh, ow, true) == pad, "avg divisor incl pad (%d,%d)", oh, ow);
    }
  // The k table decodes back to (ci, r, s).
  for (int k = 0; k < 3 * 5 * 7; ++k) {
    const KEntry e = make_kentry(k, 5, 7);
    EXPECT(e.ci * 35 + (e.rs >> 16) * 7 + (e.rs & 0xffff) == k, "kentry %d", k);
  }
}

int main() {
  check_epilogue_and_pool();
  check_banks<128 + kSmemPad>();
  check_banks<64 + kSmemPad>();
  check_loader<TileLoad<128, 128, 16, 256>>();
  check_loader<TileLoad<64, 64, 16, 128>>();
  check_loader<TileLoad<64, 64, 16, 256>>();
  // Every output of the block tile is owned by exactly one thread slot.
  {
    using T = MmaTiling<128, 128, 2, 4>;
    std::vector<int> own(128 * 128, 0);
    for (int t = 0; t < T::THREADS; ++t)
      for (int mi = 0; mi < T::MI; ++mi)
        for (int ni = 0; ni < T::NI; ++ni)
          for (int r = 0; r < 4; ++r) own[T::acc_m(t, mi, r) * 128 + T::acc_n(t, ni, r)]++;
    for (int v : own) EXPECT(v == 1, "mma accumulator owned %d times", v);
    using S = SimtTiling<128, 128, 8, 8>;
    std::fill(own.begin(), own.end(), 0);
    for (int t = 0; t < S::THREADS; ++t)
      for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 8; ++j) own[S::row(t, i) * 128 + S::col(t, j)]++;
    for (int v : own) EXPECT(v == 1, "simt accumulator owned %d times", v);
  }

  std::mt19937 rng(1234);
  const Shape shapes[] = {
      // n cin h  w cout kh kw g sh sw dh dw pt pl pb pr
      {1, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},      // 3x3 pad 1, odd sizes
      {2, 8, 7, 7, 16, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},      // 1x1 direct path
      {2, 6, 10, 9, 12, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},     // 1x1 stride 2 (downsample)
      {1, 3, 23, 21, 8, 7, 7, 1, 2, 2, 1, 1, 3, 3, 3, 3},     // stem-like 7x7/2
      {2, 8, 8, 8, 8, 3, 3, 2, 1, 1, 2, 2, 2, 1, 2, 0},       // groups, dilation, asym pads
      {1, 4, 6, 5, 4, 3, 3, 4, 2, 1, 1, 1, 1, 0, 1, 1},       // depthwise
      {3, 20, 6, 6, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     // K not a multiple of 16, M > 64
      {1, 130, 3, 3, 140, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},   // M > 128 (two m tiles), N < 8
      {5, 2048 / 64, 1, 1, 10, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},  // FC as a 1x1 conv
  };
  for (const Shape& s : shapes) {
    check_conv<true, 128, 128, 2, 4>("tf32_128x128", s, rng);
    check_conv<true, 64, 64, 2, 2>("tf32_64x64", s, rng);
    check_conv<false, 128, 128, 8, 8>("fp32_128x128", s, rng);
    check_conv<false, 64, 64, 4, 4>("fp32_64x64", s, rng);
  }
  if (failures) {
    std::printf("host tests: %d failure(s)\n", failures);
    return 1;
  }
  std::printf("host tests: all passed (loaders, fragment layouts, banks, tiling, epilogue, pools, 4 kernel replays x %zu shapes)\n",
              sizeof(shapes) / sizeof(shapes[0]));
  return 0;
}
