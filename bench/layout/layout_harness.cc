// Which activation layout for the native backend: NCHW16c or NHWC?
// The same AVX-512 micro-kernel (14 pixels x 32 output channels, weights
// packed [oc/32][tap][c][32] at load, broadcast-FMA over input channels) runs
// on both layouts; only the activation addressing differs:
//   NHWC     pixel stride C,  16-channel block stride 16
//   NCHW16c  pixel stride 16, 16-channel block stride H*W*16
// so the figures compare what the layout does to the caches, the TLB and
// the prefetchers on ResNet-50's 1x1 and 3x3 shapes. 3x3 convs read a
// pre-padded input in both layouts (the copy is not timed: it is the same
// for both, and the plan would remove it in either). One thread; the two
// layouts alternate shape by shape, round by round; best of the rounds.
//   g++ -std=c++17 -O3 -mavx512f -mfma bench/layout/layout_harness.cc -o /tmp/layout_harness
//   /tmp/layout_harness [rounds=7]
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr int kMr = 14;  // pixels per tile
constexpr int kNr = 32;  // output channels per tile (2 zmm)

struct Strides {
  size_t x_pixel, x_block;  // input: next pixel, next 16 channels
  size_t y_pixel, y_block;  // output: next pixel, next 16 channels
};

// y[tile] = relu(bias + sum_tap sum_c x[pixel + tap_offset][c] * w[tap][c])
// for `pixels` (<= kMr) consecutive pixels and 32 output channels.
__attribute__((noinline)) void tile_kernel(const float* x, const float* w, const float* bias, float* y,
                                           int pixels, int c_in, const long* tap_offsets, int taps,
                                           const Strides& s) {
  __m512 acc0[kMr], acc1[kMr];
  const __m512 b0 = _mm512_loadu_ps(bias), b1 = _mm512_loadu_ps(bias + 16);
  for (int p = 0; p < kMr; ++p) acc0[p] = b0, acc1[p] = b1;
  for (int t = 0; t < taps; ++t) {
    const float* xt = x + tap_offsets[t] * long(s.x_pixel);
    for (int cb = 0; cb < c_in / 16; ++cb) {
      const float* xb = xt + size_t(cb) * s.x_block;
      for (int c = 0; c < 16; ++c, w += kNr) {
        const __m512 w0 = _mm512_load_ps(w), w1 = _mm512_load_ps(w + 16);
#pragma GCC unroll 14
        for (int p = 0; p < kMr; ++p) {
          const __m512 v = _mm512_set1_ps(xb[size_t(p) * s.x_pixel + size_t(c)]);
          acc0[p] = _mm512_fmadd_ps(w0, v, acc0[p]);
          acc1[p] = _mm512_fmadd_ps(w1, v, acc1[p]);
        }
      }
    }
  }
  const __m512 zero = _mm512_setzero_ps();
  for (int p = 0; p < pixels; ++p) {
    _mm512_storeu_ps(y + size_t(p) * s.y_pixel, _mm512_max_ps(acc0[p], zero));
    _mm512_storeu_ps(y + size_t(p) * s.y_pixel + s.y_block, _mm512_max_ps(acc1[p], zero));
  }
}

struct Shape {
  const char* name;
  int c_in, c_out, hw, k;  // k: 1 or 3 (stride 1, pad k/2)
};

// One conv over a (pre-padded for 3x3) input: row-chunk tiles of <= 14
// output pixels, output-channel tiles inner so an input tile stays in cache.
void conv(const Shape& sh, bool blocked, const float* x, const float* w, const float* bias, float* y) {
  const int pad = sh.k / 2, in_w = sh.hw + 2 * pad, in_hw = in_w * (sh.hw + 2 * pad);
  const size_t out_hw = size_t(sh.hw) * size_t(sh.hw);
  const Strides s = blocked ? Strides{16, size_t(in_hw) * 16, 16, out_hw * 16}
                            : Strides{size_t(sh.c_in), 16, size_t(sh.c_out), 16};
  std::vector<long> taps;
  for (int ky = 0; ky < sh.k; ++ky)
    for (int kx = 0; kx < sh.k; ++kx) taps.push_back(long(ky) * in_w + kx);
  const size_t w_block = size_t(sh.k * sh.k) * size_t(sh.c_in) * kNr;
  for (int oy = 0; oy < sh.hw; ++oy)
    for (int ox = 0; ox < sh.hw; ox += kMr) {
      const int pixels = std::min(kMr, sh.hw - ox);
      const float* xt = x + size_t(oy * in_w + ox) * s.x_pixel;
      const size_t out_pixel = size_t(oy) * size_t(sh.hw) + size_t(ox);
      for (int ob = 0; ob < sh.c_out / kNr; ++ob) {
        float* yt = y + out_pixel * s.y_pixel + size_t(ob) * 2 * s.y_block;
        tile_kernel(xt, w + size_t(ob) * w_block, bias + ob * kNr, yt, pixels, sh.c_in, taps.data(),
                    int(taps.size()), s);
      }
    }
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// The last tile of a row computes (and reads) 14 pixels even when fewer
// remain: a slack of 14 pixels x 2048 channels keeps those reads in bounds.
constexpr size_t kSlack = size_t(kMr) * 2048;

float* alloc(size_t n) {
  float* p = static_cast<float*>(std::aligned_alloc(64, (((n + kSlack) * 4 + 63) / 64) * 64));
  for (size_t i = 0; i < n + kSlack; ++i) p[i] = float((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 7;
  const Shape shapes[] = {
      {"1x1 64->256 @56", 64, 256, 56, 1},    {"1x1 256->64 @56", 256, 64, 56, 1},
      {"1x1 256->128 @56", 256, 128, 56, 1},  {"1x1 128->512 @28", 128, 512, 28, 1},
      {"1x1 512->128 @28", 512, 128, 28, 1},  {"1x1 256->1024 @14", 256, 1024, 14, 1},
      {"1x1 1024->256 @14", 1024, 256, 14, 1}, {"1x1 512->2048 @7", 512, 2048, 7, 1},
      {"1x1 2048->512 @7", 2048, 512, 7, 1},  {"3x3 64 @56", 64, 64, 56, 3},
      {"3x3 128 @28", 128, 128, 28, 3},       {"3x3 256 @14", 256, 256, 14, 3},
      {"3x3 512 @7", 512, 512, 7, 3},
  };
  std::printf("| shape | NHWC GFLOP/s | NCHW16c GFLOP/s | 16c / NHWC |\n|---|---|---|---|\n");
  double sum_log = 0;
  int count = 0;
  for (const Shape& sh : shapes) {
    const int pad = sh.k / 2;
    const size_t in_n = size_t(sh.c_in) * size_t(sh.hw + 2 * pad) * size_t(sh.hw + 2 * pad);
    float* x = alloc(in_n);
    float* w = alloc(size_t(sh.k * sh.k) * size_t(sh.c_in) * size_t(sh.c_out));
    float* bias = alloc(size_t(sh.c_out));
    float* y = alloc(size_t(sh.c_out) * size_t(sh.hw) * size_t(sh.hw));
    const double flops = 2.0 * sh.c_in * sh.c_out * sh.k * sh.k * double(sh.hw) * sh.hw;
    const int reps = std::max(1, int(1e9 / flops));
    double best[2] = {1e30, 1e30};
    for (int r = 0; r < rounds; ++r)
      for (int blocked = 0; blocked < 2; ++blocked) {
        const int layout = r % 2 ? 1 - blocked : blocked;  // alternate which goes first
        const double t0 = now();
        for (int i = 0; i < reps; ++i) conv(sh, layout == 1, x, w, bias, y);
        best[layout] = std::min(best[layout], (now() - t0) / reps);
      }
    const double g_nhwc = flops / best[0] * 1e-9, g_16c = flops / best[1] * 1e-9;
    std::printf("| %s | %.1f | %.1f | %.3f |\n", sh.name, g_nhwc, g_16c, g_16c / g_nhwc);
    sum_log += std::log(g_16c / g_nhwc);
    ++count;
    std::free(x), std::free(w), std::free(bias), std::free(y);
  }
  std::printf("\ngeometric mean 16c / NHWC: %.3f\n", std::exp(sum_log / count));
  return 0;
}
