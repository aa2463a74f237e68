// AVX-512 Winograd F(2x2,3x3) transforms: input (up to 16 tiles of a tile row
// per vector) and output with bias + residual + ReLU fused. The tile GEMMs are
// f32_winograd_gemm_14x32__avx512f.cc.
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  A^T = [1 1 1 0; 0 1 -1 -1]
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include "winograd_avx512f.h"

namespace resnode::cpu {
namespace {

// 1-D B^T transform of four vectors.
RN_INLINE void bt4(const __m512 d[4], __m512 o[4]) {
  o[0] = _mm512_sub_ps(d[0], d[2]);
  o[1] = _mm512_add_ps(d[1], d[2]);
  o[2] = _mm512_sub_ps(d[2], d[1]);
  o[3] = _mm512_sub_ps(d[1], d[3]);
}

// 1-D A^T transform: four vectors in, two out.
RN_INLINE void at4(__m512 m0, __m512 m1, __m512 m2, __m512 m3, __m512 o[2]) {
  o[0] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
  o[1] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
}

}  // namespace

void f32_winograd_input_2x2_3x3__avx512f(const WinoInputArgs& a) {
  const int64_t y0 = a.ty * 2 - a.pad_top;
  // De-interleave by 2 (element 2t + phase); shift by one lane, taking lane 0
  // (or 1) of the tail chunk.
  const Deinterleave perm;
  bool row_ok[4];
  for (int r = 0; r < 4; ++r) row_ok[r] = y0 + r >= 0 && y0 + r < a.h;
  const int64_t nt = a.nt;
  const __mmask16 smask = __mmask16((1u << nt) - 1u);
  const int64_t xs = a.tx0 * 2 - a.pad_left;  // input column of lane 0, chunk 0
  // Tile l reads columns 2l .. 2l + 3: 2 nt + 2 columns, a third chunk only for nt = 16.
  const int nchunks = 2 * nt + 2 > 32 ? 3 : 2;
  __mmask16 lm[3];
  for (int j = 0; j < 3; ++j) lm[j] = lane_mask(-xs - 16 * j, a.w - xs - 16 * j);
  lm[2] &= 0x3;
  for (int64_t c = a.c0; c < a.c1; ++c) {
    const float* plane = a.x + c * a.h * a.w;
    alignas(64) float wb[4][3][16];
    // Vertical B^T on the raw rows, chunks of 16 columns.
    for (int j = 0; j < nchunks; ++j) {
      __m512 d[4], o[4];
      for (int r = 0; r < 4; ++r) {
        // Masked lanes never fault, so the (possibly out-of-row) base is fine.
        d[r] = row_ok[r] ? _mm512_maskz_loadu_ps(lm[j], plane + (y0 + r) * a.w + xs + 16 * j)
                         : _mm512_setzero_ps();
      }
      bt4(d, o);
      for (int i = 0; i < 4; ++i) _mm512_store_ps(wb[i][j], o[i]);
    }
    float* vc = a.v + size_t(c) * a.ld_c;
    for (int i = 0; i < 4; ++i) {
      const __m512 a0 = _mm512_load_ps(wb[i][0]), a1 = _mm512_load_ps(wb[i][1]);
      const __m512 tail = nchunks == 3 ? _mm512_load_ps(wb[i][2]) : _mm512_setzero_ps();
      __m512 d[4], o[4];
      d[0] = _mm512_permutex2var_ps(a0, perm.even, a1);  // columns 2l
      d[1] = _mm512_permutex2var_ps(a0, perm.odd, a1);   // 2l + 1
      d[2] = _mm512_permutex2var_ps(d[0], perm.sh0, tail);  // 2l + 2
      d[3] = _mm512_permutex2var_ps(d[1], perm.sh1, tail);  // 2l + 3
      bt4(d, o);
      for (int j = 0; j < 4; ++j) _mm512_mask_storeu_ps(vc + size_t(i * 4 + j) * a.ld_e, smask, o[j]);
    }
  }
}

void f32_winograd_output_2x2_3x3__avx512f(const WinoOutputArgs& a) {
  const int64_t nco = std::min<int64_t>(32, a.c_out - a.co0);
  const size_t plane = size_t(a.out_h * a.out_w);
  for (int64_t t = 0; t < a.ntiles; ++t) {
    const auto [n, oy0, ox0, rows, cols] = out_tile(a, a.tile0 + t, 2);
    for (int64_t h = 0; h * 16 < nco; ++h) {
      const float* mt = a.m + size_t(t) * 32 + size_t(h) * 16;
      __m512 tt[2][4];
      for (int j = 0; j < 4; ++j) {
        __m512 o[2];
        at4(_mm512_load_ps(mt + size_t(0 * 4 + j) * a.ldm_e), _mm512_load_ps(mt + size_t(1 * 4 + j) * a.ldm_e),
            _mm512_load_ps(mt + size_t(2 * 4 + j) * a.ldm_e), _mm512_load_ps(mt + size_t(3 * 4 + j) * a.ldm_e), o);
        tt[0][j] = o[0];
        tt[1][j] = o[1];
      }
      const __m512 bias = _mm512_loadu_ps(a.bias + h * 16);
      alignas(64) float ob[2][2][16];  // [row][col][channel]
      for (int i = 0; i < 2; ++i) {
        __m512 o[2];
        at4(tt[i][0], tt[i][1], tt[i][2], tt[i][3], o);
        _mm512_store_ps(ob[i][0], _mm512_add_ps(o[0], bias));
        _mm512_store_ps(ob[i][1], _mm512_add_ps(o[1], bias));
      }
      // A tile holds two pixels of each of two rows per channel: scalar stores.
      const int64_t nc = std::min<int64_t>(16, nco - h * 16);
      const size_t off0 = size_t(n * a.c_out + a.co0 + h * 16) * plane + size_t(oy0 * a.out_w + ox0);
      for (int64_t cc = 0; cc < nc; ++cc) {
        const size_t off = off0 + size_t(cc) * plane;
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < cols; ++j) {
            const size_t idx = off + size_t(i * a.out_w + j);
            float v = ob[i][j][cc];
            if (a.residual) v += a.residual[idx];
            if (a.relu && v < 0.0f) v = 0.0f;
            a.y[idx] = v;
          }
      }
    }
  }
}

}  // namespace resnode::cpu
