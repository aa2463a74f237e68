// AVX-512 Winograd F(4x4,3x3) transforms: input (16 tiles of a tile row per
// vector) and output with bias + residual + ReLU fused. The tile GEMMs are
// f32_winograd_gemm_14x32__avx512f.cc.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma (by file name).
#include "winograd_avx512f.h"

namespace resnode::cpu {
namespace {

// 1-D B^T transform of six vectors.
RN_INLINE void bt6(const __m512 d[6], __m512 o[6]) {
  const __m512 c4 = _mm512_set1_ps(4.0f), c5 = _mm512_set1_ps(-5.0f), c2 = _mm512_set1_ps(2.0f);
  o[0] = _mm512_fmadd_ps(c4, d[0], _mm512_fmadd_ps(c5, d[2], d[4]));
  o[1] = _mm512_fnmadd_ps(c4, _mm512_add_ps(d[1], d[2]), _mm512_add_ps(d[3], d[4]));
  o[2] = _mm512_fmadd_ps(c4, _mm512_sub_ps(d[1], d[2]), _mm512_sub_ps(d[4], d[3]));
  const __m512 e = _mm512_sub_ps(d[4], d[2]), f = _mm512_sub_ps(d[3], d[1]);
  o[3] = _mm512_fmadd_ps(c2, f, e);
  o[4] = _mm512_fnmadd_ps(c2, f, e);
  o[5] = _mm512_fmadd_ps(c4, d[1], _mm512_fmadd_ps(c5, d[3], d[5]));
}

// 1-D A^T transform: six vectors in, four out.
RN_INLINE void at6(__m512 m0, __m512 m1, __m512 m2, __m512 m3, __m512 m4, __m512 m5, __m512 o[4]) {
  const __m512 a = _mm512_add_ps(m1, m2), b = _mm512_sub_ps(m1, m2);
  const __m512 c = _mm512_add_ps(m3, m4), d = _mm512_sub_ps(m3, m4);
  o[0] = _mm512_add_ps(_mm512_add_ps(m0, a), c);
  o[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d, b);
  o[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), c, a);
  o[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), d, b), m5);
}


// Stores one tile for nc (<= 16) output channels from the transposed buffer
// tb[row][l][k * 4 + col] (channel 4k + l), with the residual add and ReLU.
template <bool kFull, bool kRes, bool kRelu>
RN_INLINE void store_tile(const float* tb, int64_t nc, float* y, const float* res, size_t plane,
                          int64_t ld, int64_t rows, __mmask8 cmask) {
  const __m128 z = _mm_setzero_ps();
  for (int64_t cc = 0; cc < nc; ++cc) {
    const float* src = tb + (cc & 3) * 16 + (cc >> 2) * 4;
    float* yp = y + size_t(cc) * plane;
    const float* rp = kRes ? res + size_t(cc) * plane : nullptr;
    const int64_t nr = kFull ? 4 : rows;
    for (int64_t i = 0; i < nr; ++i) {
      __m128 v = _mm_load_ps(src + i * 64);
      if (kRes) v = _mm_add_ps(v, kFull ? _mm_loadu_ps(rp + i * ld) : _mm_maskz_loadu_ps(cmask, rp + i * ld));
      if (kRelu) v = _mm_max_ps(v, z);
      if (kFull)
        _mm_storeu_ps(yp + i * ld, v);
      else
        _mm_mask_storeu_ps(yp + i * ld, cmask, v);
    }
  }
}

}  // namespace

void f32_winograd_input_4x4_3x3__avx512f(const WinoInputArgs& a) {
  const int64_t y0 = a.ty * 4 - a.pad_top;
  // De-interleave by 4 (element 4t + phase) in two even/odd rounds; shift by
  // one lane, taking lane 0 (or 1) of the tail.
  const Deinterleave perm;
  const __m512i even = perm.even, odd = perm.odd, sh0 = perm.sh0, sh1 = perm.sh1;
  bool row_ok[6];
  for (int r = 0; r < 6; ++r) row_ok[r] = y0 + r >= 0 && y0 + r < a.h;
  {
    const int64_t tx0 = a.tx0, nt = a.nt;
    const __mmask16 smask = __mmask16((1u << nt) - 1u);
    const int64_t xs = tx0 * 4 - a.pad_left;  // input column of lane 0, chunk 0
    __mmask16 lm[5];
    for (int j = 0; j < 5; ++j) lm[j] = lane_mask(-xs - 16 * j, a.w - xs - 16 * j);
    lm[4] &= 0x3;
    const int nchunks = 4 * nt + 2 > 64 ? 5 : 4;
    for (int64_t c = a.c0; c < a.c1; ++c) {
      const float* plane = a.x + c * a.h * a.w;
      if (c + 1 < a.c1) {  // the next channel's rows, ~300 cycles ahead
        const float* np = plane + a.h * a.w + xs;
        for (int r = 0; r < 6; ++r)
          if (row_ok[r])
            for (int64_t off = 0; off < 4 * nt + 2; off += 16)
              _mm_prefetch(reinterpret_cast<const char*>(np + (y0 + r) * a.w + off), _MM_HINT_T0);
      }
      alignas(64) float wb[6][5][16];
      // Vertical B^T on the raw rows (chunks of 16 columns; the 5th only for nt = 16).
      for (int j = 0; j < nchunks; ++j) {
        __m512 d[6], o[6];
        for (int r = 0; r < 6; ++r) {
          if (row_ok[r]) {
            // Masked lanes never fault, so the (possibly out-of-row) base is fine.
            const float* p = plane + (y0 + r) * a.w + xs + 16 * j;
            d[r] = _mm512_maskz_loadu_ps(lm[j], p);
          } else {
            d[r] = _mm512_setzero_ps();
          }
        }
        bt6(d, o);
        for (int i = 0; i < 6; ++i) _mm512_store_ps(wb[i][j], o[i]);
      }
      // Horizontal: de-interleave by 4 (element 4t + phase), then B^T.
      float* vc = a.v + size_t(c) * a.ld_c;
      for (int i = 0; i < 6; ++i) {
        const __m512 a0 = _mm512_load_ps(wb[i][0]), a1 = _mm512_load_ps(wb[i][1]);
        const __m512 a2 = _mm512_load_ps(wb[i][2]), a3 = _mm512_load_ps(wb[i][3]);
        const __m512 tail = nchunks == 5 ? _mm512_load_ps(wb[i][4]) : _mm512_setzero_ps();
        const __m512 b0 = _mm512_permutex2var_ps(a0, even, a1);
        const __m512 b1 = _mm512_permutex2var_ps(a0, odd, a1);
        const __m512 b2 = _mm512_permutex2var_ps(a2, even, a3);
        const __m512 b3 = _mm512_permutex2var_ps(a2, odd, a3);
        __m512 d[6], o[6];
        d[0] = _mm512_permutex2var_ps(b0, even, b2);
        d[2] = _mm512_permutex2var_ps(b0, odd, b2);
        d[1] = _mm512_permutex2var_ps(b1, even, b3);
        d[3] = _mm512_permutex2var_ps(b1, odd, b3);
        d[4] = _mm512_permutex2var_ps(d[0], sh0, tail);
        d[5] = _mm512_permutex2var_ps(d[1], sh1, tail);
        bt6(d, o);
        for (int j = 0; j < 6; ++j) _mm512_mask_storeu_ps(vc + size_t(i * 6 + j) * a.ld_e, smask, o[j]);
      }
    }
  }
}

void f32_winograd_output_4x4_3x3__avx512f(const WinoOutputArgs& a) {
  const int64_t nco = std::min<int64_t>(32, a.c_out - a.co0);
  const int64_t per_img = a.tiles_h * a.tiles_w;
  const size_t plane = size_t(a.out_h * a.out_w);
  for (int64_t t = 0; t < a.ntiles; ++t) {
    const int64_t g = a.tile0 + t;
    const auto [n, oy0, ox0, rows, cols] = out_tile(a, g, 4);
    const __mmask8 cmask = __mmask8((1u << cols) - 1u);
    const bool full = rows == 4 && cols == 4;
    if (t + 1 < a.ntiles) {  // the next tile's lines when it starts a new one
      const int64_t g1 = g + 1, n1 = g1 / per_img, r1 = g1 % per_img;
      const int64_t oy1 = (r1 / a.tiles_w) * 4, ox1 = (r1 % a.tiles_w) * 4;
      if (ox1 % 16 == 0) {
        const int64_t rows1 = std::min<int64_t>(4, a.out_h - oy1);
        for (int64_t cc = 0; cc < nco; ++cc) {
          const size_t off = size_t(n1 * a.c_out + a.co0 + cc) * plane + size_t(oy1 * a.out_w + ox1);
          for (int64_t i = 0; i < rows1; ++i) {
            if (a.residual) _mm_prefetch(reinterpret_cast<const char*>(a.residual + off + i * a.out_w), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(a.y + off + i * a.out_w), _MM_HINT_ET0);
          }
        }
      }
    }
    for (int64_t h = 0; h * 16 < nco; ++h) {
      const float* mt = a.m + size_t(t) * 32 + size_t(h) * 16;
      __m512 tt[4][6];
      for (int j = 0; j < 6; ++j) {
        __m512 o[4];
        at6(_mm512_load_ps(mt + size_t(0 * 6 + j) * a.ldm_e), _mm512_load_ps(mt + size_t(1 * 6 + j) * a.ldm_e),
            _mm512_load_ps(mt + size_t(2 * 6 + j) * a.ldm_e), _mm512_load_ps(mt + size_t(3 * 6 + j) * a.ldm_e),
            _mm512_load_ps(mt + size_t(4 * 6 + j) * a.ldm_e), _mm512_load_ps(mt + size_t(5 * 6 + j) * a.ldm_e), o);
        for (int i = 0; i < 4; ++i) tt[i][j] = o[i];
      }
      const __m512 bias = _mm512_loadu_ps(a.bias + h * 16);
      alignas(64) float tb[4][4][16];  // [row][l][lane k*4 + col]: cout 4k + l
      for (int i = 0; i < 4; ++i) {
        __m512 o[4];
        at6(tt[i][0], tt[i][1], tt[i][2], tt[i][3], tt[i][4], tt[i][5], o);
        for (int j = 0; j < 4; ++j) o[j] = _mm512_add_ps(o[j], bias);
        // 4x4 transpose inside each 128-bit lane: lane k of q_l = row i of cout 4k + l.
        const __m512 t0 = _mm512_unpacklo_ps(o[0], o[1]), t1 = _mm512_unpackhi_ps(o[0], o[1]);
        const __m512 t2 = _mm512_unpacklo_ps(o[2], o[3]), t3 = _mm512_unpackhi_ps(o[2], o[3]);
        _mm512_store_ps(tb[i][0], _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t0), _mm512_castps_pd(t2))));
        _mm512_store_ps(tb[i][1], _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t0), _mm512_castps_pd(t2))));
        _mm512_store_ps(tb[i][2], _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t1), _mm512_castps_pd(t3))));
        _mm512_store_ps(tb[i][3], _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t1), _mm512_castps_pd(t3))));
      }
      const int64_t nc = std::min<int64_t>(16, nco - h * 16);
      const size_t off0 = size_t(n * a.c_out + a.co0 + h * 16) * plane + size_t(oy0 * a.out_w + ox0);
      if (full) {
        if (a.residual)
          a.relu ? store_tile<true, true, true>(&tb[0][0][0], nc, a.y + off0, a.residual + off0, plane, a.out_w, 4, cmask)
                 : store_tile<true, true, false>(&tb[0][0][0], nc, a.y + off0, a.residual + off0, plane, a.out_w, 4, cmask);
        else
          a.relu ? store_tile<true, false, true>(&tb[0][0][0], nc, a.y + off0, nullptr, plane, a.out_w, 4, cmask)
                 : store_tile<true, false, false>(&tb[0][0][0], nc, a.y + off0, nullptr, plane, a.out_w, 4, cmask);
      } else {
        if (a.residual)
          a.relu ? store_tile<false, true, true>(&tb[0][0][0], nc, a.y + off0, a.residual + off0, plane, a.out_w, rows, cmask)
                 : store_tile<false, true, false>(&tb[0][0][0], nc, a.y + off0, a.residual + off0, plane, a.out_w, rows, cmask);
        else
          a.relu ? store_tile<false, false, true>(&tb[0][0][0], nc, a.y + off0, nullptr, plane, a.out_w, rows, cmask)
                 : store_tile<false, false, false>(&tb[0][0][0], nc, a.y + off0, nullptr, plane, a.out_w, rows, cmask);
      }
    }
  }
}

}  // namespace resnode::cpu
