// im2col for one image and one channel group, restricted to output rows
// [oh0, oh1): B[r][(oh − oh0)·ow + x] with r = (c·kh + ki)·kw + kj, matching the
// [cOut][cIn/groups][kh][kw] weight layout, so conv = W · B. Padding is zero.

export interface Im2colGeometry {
  cIn: number; // channels in this group
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padT: number;
  padL: number;
  dh: number;
  dw: number;
  outH: number;
  outW: number;
}

export function im2col(x: Float32Array, xOff: number, g: Im2colGeometry, oh0: number, oh1: number, B: Float32Array): void {
  const { cIn, h, w, kh, kw, sh, sw, padT, padL, dh, dw, outW } = g;
  const ncols = (oh1 - oh0) * outW;
  const plane = h * w;
  let row = 0;
  for (let c = 0; c < cIn; c++) {
    const xc = xOff + c * plane;
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++, row += ncols) {
        // Output columns whose input column iw = ox·sw − padL + kj·dw lies in [0, w).
        const shift = kj * dw - padL;
        let lo = shift >= 0 ? 0 : Math.ceil(-shift / sw);
        let hi = Math.floor((w - 1 - shift) / sw) + 1;
        if (lo > outW) lo = outW;
        if (hi > outW) hi = outW;
        if (hi < lo) hi = lo;
        let d = row;
        for (let oh = oh0; oh < oh1; oh++) {
          const ih = oh * sh - padT + ki * dh;
          const end = d + outW;
          if (ih < 0 || ih >= h) {
            B.fill(0, d, end);
            d = end;
            continue;
          }
          for (let ox = 0; ox < lo; ox++) B[d++] = 0;
          let s = xc + ih * w + lo * sw + shift;
          if (sw === 1) {
            for (let ox = lo; ox < hi; ox++) B[d++] = x[s++];
          } else {
            for (let ox = lo; ox < hi; ox++, s += sw) B[d++] = x[s];
          }
          while (d < end) B[d++] = 0;
        }
      }
    }
  }
}
