// Layout probe, not a library kernel: a first AVX-512 NHWC igemm (XNNPACK's
// design: weights packed once as [K x 32] panels, activations read in place as
// A rows through an indirection buffer, a shared zero row for padding), timed
// on the ResNet-50 conv shapes to decide the activation layout (issue 22,
// bench/results/layout-choice.md). Checked against a float64 loop per shape.
// Build: g++ -O3 -march=native -fopenmp bench/probes/igemm-nhwc-probe.cc -o /tmp/igemm-probe
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

constexpr int MR = 14, NR = 32;

// acc[MR x 32] += sum over taps and channels of a_row[c] * w[k][0..31]; then bias, relu, store.
static void f32_igemm_14x32__avx512f(int mr, int kk, int cin, const float** indir, const float* w, const float* bias,
                                      float* y, int ldy, int nvalid) {
  __m512 acc[MR][2];
  const __m512 b0i = _mm512_loadu_ps(bias), b1i = _mm512_loadu_ps(bias + 16);
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) { acc[i][0] = b0i; acc[i][1] = b1i; }
  for (int t = 0; t < kk; ++t) {
    const float* a[MR];
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) a[i] = indir[i * kk + t];
    for (int c = 0; c < cin; ++c) {
      const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16);
      w += NR;
#pragma GCC unroll 14
      for (int i = 0; i < MR; ++i) {
        const __m512 va = _mm512_set1_ps(a[i][c]);
        acc[i][0] = _mm512_fmadd_ps(va, w0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(va, w1, acc[i][1]);
      }
    }
  }
  const __mmask16 m0 = nvalid >= 16 ? 0xffff : (1u << nvalid) - 1;
  const __mmask16 m1 = nvalid >= 32 ? 0xffff : nvalid <= 16 ? 0 : (1u << (nvalid - 16)) - 1;
  const __m512 z = _mm512_setzero_ps();
  for (int i = 0; i < mr; ++i) {
    _mm512_mask_storeu_ps(y + i * ldy, m0, _mm512_max_ps(acc[i][0], z));
    _mm512_mask_storeu_ps(y + i * ldy + 16, m1, _mm512_max_ps(acc[i][1], z));
  }
}

int main(int argc, char** argv) {
  struct S { int hw, cin, cout, k, s; };
  const S shapes[] = {{56, 64, 64, 1, 1},   {56, 64, 256, 1, 1},   {56, 256, 64, 1, 1},  {28, 128, 512, 1, 1},
                      {28, 512, 128, 1, 1}, {14, 256, 1024, 1, 1}, {14, 1024, 256, 1, 1}, {7, 512, 2048, 1, 1},
                      {7, 2048, 512, 1, 1}, {56, 256, 512, 1, 2},  {56, 64, 64, 3, 1},   {28, 128, 128, 3, 1},
                      {14, 256, 256, 3, 1}, {7, 512, 512, 3, 1},   {56, 128, 128, 3, 2}, {28, 256, 256, 3, 2},
                      {14, 512, 512, 3, 2}, {224, 3, 64, 7, 2}};
  const int reps = argc > 1 ? atoi(argv[1]) : 20;
  omp_set_num_threads(2);
  for (const S& s : shapes) {
    const int pad = (s.k - 1) / 2, oh = (s.hw + 2 * pad - s.k) / s.s + 1, M = oh * oh, KK = s.k * s.k;
    const int npanels = (s.cout + NR - 1) / NR, K = KK * s.cin;
    std::vector<float> x(size_t(s.hw) * s.hw * s.cin), wt(size_t(s.cout) * K), bias(npanels * NR, 0.f);
    for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i));
    for (size_t i = 0; i < wt.size(); ++i) wt[i] = std::cos(float(i) * 0.37f) * 0.05f;
    for (int o = 0; o < s.cout; ++o) bias[o] = 0.01f * (o % 7);
    // Pack once: panel p, row k = (tap, c), 32 output channels (zero-filled past cout). wt is [cout][cin][kh][kw].
    std::vector<float> packed(size_t(npanels) * K * NR, 0.f);
    for (int o = 0; o < s.cout; ++o)
      for (int t = 0; t < KK; ++t)
        for (int c = 0; c < s.cin; ++c)
          packed[(size_t(o / NR) * K + t * s.cin + c) * NR + o % NR] = wt[(size_t(o) * s.cin + c) * KK + t];
    // Indirection: per output pixel (rows padded to MR with the last pixel) and tap, the input row or the zero row.
    std::vector<float> zero(s.cin, 0.f);
    const int mtiles = (M + MR - 1) / MR;
    std::vector<const float*> indir(size_t(mtiles) * MR * KK);
    for (int m = 0; m < mtiles * MR; ++m) {
      const int p = std::min(m, M - 1), oy = p / oh, ox = p % oh;
      for (int ky = 0; ky < s.k; ++ky)
        for (int kx = 0; kx < s.k; ++kx) {
          const int iy = oy * s.s - pad + ky, ix = ox * s.s - pad + kx;
          const bool in = iy >= 0 && iy < s.hw && ix >= 0 && ix < s.hw;
          indir[size_t(m) * KK + ky * s.k + kx] = in ? &x[(size_t(iy) * s.hw + ix) * s.cin] : zero.data();
        }
    }
    std::vector<float> y(size_t(M) * s.cout);
    auto run = [&] {
#pragma omp parallel for schedule(static) collapse(2)
      for (int p = 0; p < npanels; ++p)
        for (int mt = 0; mt < mtiles; ++mt)
          f32_igemm_14x32__avx512f(std::min(MR, M - mt * MR), KK, s.cin, &indir[size_t(mt) * MR * KK],
                                   &packed[size_t(p) * K * NR], &bias[p * NR], &y[size_t(mt) * MR * s.cout + p * NR],
                                   s.cout, s.cout - p * NR);
    };
    std::vector<double> t;
    for (int r = 0; r < reps + 3; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      run();
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (r >= 3) t.push_back(ms);
    }
    std::sort(t.begin(), t.end());
    // float64 check on a sample of outputs.
    double err = 0, mag = 0;
    for (int q = 0; q < 200; ++q) {
      const int p = (q * 7919) % M, o = (q * 104729) % s.cout, oy = p / oh, ox = p % oh;
      double v = bias[o];
      for (int ky = 0; ky < s.k; ++ky)
        for (int kx = 0; kx < s.k; ++kx) {
          const int iy = oy * s.s - pad + ky, ix = ox * s.s - pad + kx;
          if (iy < 0 || iy >= s.hw || ix < 0 || ix >= s.hw) continue;
          for (int c = 0; c < s.cin; ++c)
            v += double(x[(size_t(iy) * s.hw + ix) * s.cin + c]) * wt[(size_t(o) * s.cin + c) * KK + ky * s.k + kx];
        }
      v = std::max(v, 0.0);
      err = std::max(err, std::fabs(v - y[size_t(p) * s.cout + o]));
      mag = std::max(mag, std::fabs(v));
    }
    const double gflop = 2.0 * M * s.cout * K / 1e9, ms = t[t.size() / 2];
    std::printf("%dx%d %d->%d k%d s%d | %.3f ms | %.0f GFLOP/s | err/max %.1e\n", s.hw, s.hw, s.cin, s.cout, s.k, s.s, ms,
                gflop / ms * 1e3, err / std::max(mag, 1e-30));
  }
}
