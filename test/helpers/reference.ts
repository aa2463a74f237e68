// float64 reference kernels: naive loops, written for obviousness, not speed,
// and sharing no code with the kernels under test. Inputs are float32 (what the
// kernels see); outputs are Float64Array.

export interface RefConv {
  stride: [number, number];
  pads: [number, number, number, number]; // top, left, bottom, right
  dilation: [number, number];
  groups: number;
}

/** Output size of a convolution or pool along one axis (floor, or ceil_mode). */
export function outSize(size: number, k: number, stride: number, padBefore: number, padAfter: number, dilation: number, ceil = false): number {
  const span = size + padBefore + padAfter - ((k - 1) * dilation + 1);
  let o = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // ONNX/PyTorch: with ceil_mode the last window must start inside the input or the left padding.
  if (ceil && (o - 1) * stride >= size + padBefore) o--;
  return o;
}

/**
 * y[b, co, oy, ox] = relu?(bias[co] + residual[b, co, oy, ox] +
 *   Σ_{c, i, j} x[b, g·cInG + c, oy·sh − padT + i·dh, ox·sw − padL + j·dw] · w[co, c, i, j])
 * with g = floor(co / (cOut / groups)) and out-of-range x taken as 0.
 */
export function conv2dRef(
  x: Float32Array, xDims: readonly number[], w: Float32Array, wDims: readonly number[],
  bias: Float32Array | null, residual: Float32Array | null, relu: boolean, a: RefConv,
): { data: Float64Array; dims: number[] } {
  const [n, cIn, h, wd] = xDims as [number, number, number, number];
  const [cOut, cInG, kh, kw] = wDims as [number, number, number, number];
  const [sh, sw] = a.stride;
  const [pt, pl, pb, pr] = a.pads;
  const [dh, dw] = a.dilation;
  if (cInG * a.groups !== cIn) throw new Error('reference: channels do not match groups');
  const cOutG = cOut / a.groups;
  const oh = outSize(h, kh, sh, pt, pb, dh);
  const ow = outSize(wd, kw, sw, pl, pr, dw);
  const y = new Float64Array(n * cOut * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cOut; co++) {
      const g = Math.floor(co / cOutG);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let s = bias ? bias[co] : 0;
          for (let c = 0; c < cInG; c++) {
            for (let i = 0; i < kh; i++) {
              for (let j = 0; j < kw; j++) {
                const iy = oy * sh - pt + i * dh;
                const ix = ox * sw - pl + j * dw;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                s += x[((b * cIn + g * cInG + c) * h + iy) * wd + ix] * w[((co * cInG + c) * kh + i) * kw + j];
              }
            }
          }
          const o = ((b * cOut + co) * oh + oy) * ow + ox;
          if (residual) s += residual[o];
          y[o] = relu ? Math.max(0, s) : s;
        }
      }
    }
  }
  return { data: y, dims: [n, cOut, oh, ow] };
}

/** y[i, j] = relu?(bias[j] + Σ_k x[i, k] · w[j, k]); x is [m, k], w is [nOut, k]. */
export function gemmRef(x: Float32Array, m: number, k: number, w: Float32Array, nOut: number, bias: Float32Array | null, relu: boolean): Float64Array {
  const y = new Float64Array(m * nOut);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < nOut; j++) {
      let s = bias ? bias[j] : 0;
      for (let t = 0; t < k; t++) s += x[i * k + t] * w[j * k + t];
      y[i * nOut + j] = relu ? Math.max(0, s) : s;
    }
  }
  return y;
}

export interface RefPool {
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
  dilation: [number, number];
  ceilMode: boolean;
}

/**
 * ONNX Runtime's pooling: taps outside the input are skipped by max and by
 * average. averagePool divides by the taps inside the input, or with
 * countIncludePad by the taps inside the padded input (taps past the padding,
 * which ceil_mode can create, never count).
 */
export function poolRef(
  kind: 'max' | 'avg', x: Float32Array, xDims: readonly number[], a: RefPool, countIncludePad = false,
): { data: Float64Array; dims: number[] } {
  const [n, c, h, w] = xDims as [number, number, number, number];
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [pt, pl, pb, pr] = a.pads;
  const [dh, dw] = a.dilation;
  const oh = outSize(h, kh, sh, pt, pb, dh, a.ceilMode);
  const ow = outSize(w, kw, sw, pl, pr, dw, a.ceilMode);
  const y = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let m = -Infinity;
        let s = 0;
        let inside = 0;
        let padded = 0;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const iy = oy * sh - pt + i * dh;
            const ix = ox * sw - pl + j * dw;
            if (iy >= -pt && iy < h + pb && ix >= -pl && ix < w + pr) padded++;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const v = x[(p * h + iy) * w + ix];
            inside++;
            s += v;
            if (v > m) m = v;
          }
        }
        const o = (p * oh + oy) * ow + ox;
        if (kind === 'max') y[o] = m;
        else y[o] = s / (countIncludePad ? padded : inside);
      }
    }
  }
  return { data: y, dims: [n, c, oh, ow] };
}

/** y[b, c] = mean of x[b, c, :, :]. */
export function globalAveragePoolRef(x: Float32Array, n: number, c: number, hw: number): Float64Array {
  const y = new Float64Array(n * c);
  for (let p = 0; p < n * c; p++) {
    let s = 0;
    for (let i = 0; i < hw; i++) s += x[p * hw + i];
    y[p] = s / hw;
  }
  return y;
}

/** y = a + b, then max(0, ·) when relu. */
export function addRef(a: Float32Array, b: Float32Array, relu: boolean): Float64Array {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const s = a[i] + b[i];
    y[i] = relu ? Math.max(0, s) : s;
  }
  return y;
}
