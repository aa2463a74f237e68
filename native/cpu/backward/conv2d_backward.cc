// conv2d_backward: dX, dW and db of a convolution, with every forward attribute
// (stride, asymmetric pads, dilation, groups). The batch is folded into the GEMM
// N dimension (see backward.h); the GEMMs run on the forward's packed kernels.
#include <algorithm>
#include <cstring>

#include "../backward.h"
#include "../common.h"
#include "../threadpool.h"

namespace resnode::cpu {
namespace {

struct Geo {
  int64_t cin_g, h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow;
};

// col[r, b·P + p] (row stride ld) for image b, channels of group g.
void im2col_rows(const Geo& G, const float* x_img, float* col, int64_t ld) {
  int64_t r = 0;
  for (int64_t c = 0; c < G.cin_g; ++c) {
    const float* xc = x_img + c * G.h * G.w;
    for (int64_t i = 0; i < G.kh; ++i) {
      for (int64_t j = 0; j < G.kw; ++j, ++r) {
        float* d = col + r * ld;
        // Output columns whose input column ix = ox·sw − pl + j·dw lies in [0, w).
        const int64_t shift = j * G.dw - G.pl;
        int64_t lo = shift >= 0 ? 0 : (-shift + G.sw - 1) / G.sw;
        int64_t hi = shift > G.w - 1 ? 0 : (G.w - 1 - shift) / G.sw + 1;
        lo = std::min(lo, G.ow); hi = std::max(lo, std::min(hi, G.ow));
        for (int64_t oy = 0; oy < G.oh; ++oy) {
          const int64_t iy = oy * G.sh - G.pt + i * G.dh;
          float* drow = d + oy * G.ow;
          if (iy < 0 || iy >= G.h) { std::memset(drow, 0, sizeof(float) * G.ow); continue; }
          const float* xr = xc + iy * G.w + shift;
          for (int64_t ox = 0; ox < lo; ++ox) drow[ox] = 0.f;
          if (G.sw == 1) std::memcpy(drow + lo, xr + lo, sizeof(float) * (hi - lo));
          else for (int64_t ox = lo; ox < hi; ++ox) drow[ox] = xr[ox * G.sw];
          for (int64_t ox = hi; ox < G.ow; ++ox) drow[ox] = 0.f;
        }
      }
    }
  }
}

// dx_img[c, iy, ix] += dcol[r, p] for this image's columns (row stride ld).
void col2im_rows(const Geo& G, const float* dcol, int64_t ld, float* dx_img) {
  int64_t r = 0;
  for (int64_t c = 0; c < G.cin_g; ++c) {
    float* xc = dx_img + c * G.h * G.w;
    for (int64_t i = 0; i < G.kh; ++i) {
      for (int64_t j = 0; j < G.kw; ++j, ++r) {
        const float* d = dcol + r * ld;
        const int64_t shift = j * G.dw - G.pl;
        int64_t lo = shift >= 0 ? 0 : (-shift + G.sw - 1) / G.sw;
        int64_t hi = shift > G.w - 1 ? 0 : (G.w - 1 - shift) / G.sw + 1;
        lo = std::min(lo, G.ow); hi = std::max(lo, std::min(hi, G.ow));
        for (int64_t oy = 0; oy < G.oh; ++oy) {
          const int64_t iy = oy * G.sh - G.pt + i * G.dh;
          if (iy < 0 || iy >= G.h) continue;
          float* xr = xc + iy * G.w + shift;
          const float* src = d + oy * G.ow;
          if (G.sw == 1) for (int64_t ox = lo; ox < hi; ++ox) xr[ox] += src[ox];
          else for (int64_t ox = lo; ox < hi; ++ox) xr[ox * G.sw] += src[ox];
        }
      }
    }
  }
}

}  // namespace

void conv2d_backward(const Conv2dShape& s, const float* x, const float* w, const float* dy,
                     float* dx, float* dw, float* db, int threads) {
  RN_CHECK(x && w && dy);
  if (threads <= 0) threads = global_threads();
  const int64_t n = s.n, G_ = s.groups;
  const int64_t cin_g = s.c_in / G_, cout_g = s.c_out / G_;
  const int64_t P = s.out_h * s.out_w, K = cin_g * s.kh * s.kw, NP = n * P;
  const int64_t in_img = s.c_in * s.h * s.w;
  const Geo geo{cin_g, s.h, s.w, s.kh, s.kw, s.stride_h, s.stride_w, s.dil_h, s.dil_w,
                s.pad_top, s.pad_left, s.out_h, s.out_w};

  if (db) {
    for (int64_t co = 0; co < s.c_out; ++co) {
      double acc = 0;
      for (int64_t b = 0; b < n; ++b) {
        const float* d = dy + (b * s.c_out + co) * P;
        for (int64_t p = 0; p < P; ++p) acc += d[p];
      }
      db[co] = float(acc);
    }
  }
  if (!dx && !dw) return;
  if (dx) std::memset(dx, 0, sizeof(float) * size_t(n * in_img));

  // Images are processed in chunks whose im2col block (K × chunk·P) stays
  // near L2 size; chunks run in parallel, each with single-threaded GEMMs and
  // its own partial dWᵀ, summed at the end.
  const int64_t target = int64_t(1) << 17;
  const int64_t cb = std::max<int64_t>(1, std::min<int64_t>(n, target / std::max<int64_t>(1, K * P)));
  const int64_t chunks = (n + cb - 1) / cb;
  AlignedBuffer wT = aligned_floats(dx ? size_t(K * cout_g) : 1);
  AlignedBuffer parts = aligned_floats(dw ? size_t(chunks * K * cout_g) : 1);
  const int tw = threads_for_work(2.0 * double(K) * double(cout_g) * double(NP), threads);

  for (int64_t g = 0; g < G_; ++g) {
    if (dx) {
      const float* wg = w + g * cout_g * K;
      for (int64_t co = 0; co < cout_g; ++co)
        for (int64_t r = 0; r < K; ++r) wT[r * cout_g + co] = wg[co * K + r];
    }
    parallel_for(size_t(chunks), tw, [&](size_t task) {
      const int64_t b0 = int64_t(task) * cb, b1 = std::min(n, b0 + cb), NPc = (b1 - b0) * P;
      AlignedBuffer col = aligned_floats(size_t(K * NPc));
      if (dw) {
        // dWᵀ[K, cout_g] (this chunk) = col[K, NPc] · dY[cout_g, NPc]ᵀ
        AlignedBuffer dyg = aligned_floats(size_t(cout_g * NPc));
        for (int64_t b = b0; b < b1; ++b) {
          for (int64_t co = 0; co < cout_g; ++co)
            std::memcpy(dyg.get() + co * NPc + (b - b0) * P, dy + (b * s.c_out + g * cout_g + co) * P,
                        sizeof(float) * P);
          im2col_rows(geo, x + b * in_img + g * cin_g * s.h * s.w, col.get() + (b - b0) * P, NPc);
        }
        if (cout_g >= 32) {
          auto packed = pack_gemm(dyg.get(), nullptr, cout_g, NPc);
          gemm(*packed, col.get(), K, false, parts.get() + task * K * cout_g, 1);
        } else {
          // Few output channels: pack col as the wide operand instead and transpose the small result.
          AlignedBuffer dwc = aligned_floats(size_t(cout_g * K));
          auto packed = pack_gemm(col.get(), nullptr, K, NPc);
          gemm(*packed, dyg.get(), cout_g, false, dwc.get(), 1);
          float* dst = parts.get() + task * K * cout_g;
          for (int64_t co = 0; co < cout_g; ++co)
            for (int64_t r = 0; r < K; ++r) dst[r * cout_g + co] = dwc[co * K + r];
        }
      }
      if (dx) {
        // dcol[K, NPc] = W_gᵀ[K, cout_g] · dY[cout_g, NPc]; the packed operand is dYᵀ [NPc, cout_g].
        AlignedBuffer dyT = aligned_floats(size_t(NPc * cout_g));
        for (int64_t b = b0; b < b1; ++b)
          for (int64_t co = 0; co < cout_g; ++co) {
            const float* src = dy + (b * s.c_out + g * cout_g + co) * P;
            float* t = dyT.get() + ((b - b0) * P) * cout_g + co;
            for (int64_t p = 0; p < P; ++p) t[p * cout_g] = src[p];
          }
        auto packed = pack_gemm(dyT.get(), nullptr, NPc, cout_g);
        gemm(*packed, wT.get(), K, false, col.get(), 1);
        for (int64_t b = b0; b < b1; ++b)
          col2im_rows(geo, col.get() + (b - b0) * P, NPc, dx + b * in_img + g * cin_g * s.h * s.w);
      }
    });
    if (dw) {
      float* dwg = dw + g * cout_g * K;
      for (int64_t co = 0; co < cout_g; ++co)
        for (int64_t r = 0; r < K; ++r) {
          double acc = 0;
          for (int64_t c = 0; c < chunks; ++c) acc += parts[(c * K + r) * cout_g + co];
          dwg[co * K + r] = float(acc);
        }
    }
  }
}

}  // namespace resnode::cpu
