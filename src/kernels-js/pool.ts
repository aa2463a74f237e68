// maxPool and averagePool (NCHW float32), with ONNX Runtime's semantics:
// - output sizes come from the caller (ceil_mode is decided there), so the
//   last window may run past the padded input;
// - maxPool ignores padding and out-of-range taps;
// - averagePool divides by the taps inside the input, or, with
//   countIncludePad, by the taps inside the padded input [−padT, h + padB)
//   × [−padL, w + padR) (taps past the padding, from ceil_mode, never count).
import type { PoolParams } from '../backend/types.js';
import { reorder } from './layout.js';

/** Per output row or column: first valid tap, one past the last, and taps inside the padded range. */
let windows = new Int32Array(0);

/** Fills windows[3·o …] for o < out, with taps t < k at o·stride − padBefore + t·d. */
function fillWindows(at: number, out: number, stride: number, k: number, d: number, size: number, padBefore: number, padAfter: number): void {
  for (let o = 0; o < out; o++) {
    const start = o * stride - padBefore;
    let lo = 0;
    while (lo < k && start + lo * d < 0) lo++;
    let hi = lo;
    while (hi < k && start + hi * d < size) hi++;
    let padCount = 0;
    for (let t = 0; t < k; t++) {
      const i = start + t * d;
      if (i >= -padBefore && i < size + padAfter) padCount++;
    }
    windows[at + 3 * o] = lo;
    windows[at + 3 * o + 1] = hi;
    windows[at + 3 * o + 2] = padCount;
  }
}

function pool(x: Float32Array, y: Float32Array, p: PoolParams, mode: 0 | 1 | 2): void {
  const [n, c, h, w] = p.inputDims as [number, number, number, number];
  const [kh, kw] = p.kernel as [number, number];
  const [sh, sw] = p.strides as [number, number];
  const [padT, padL, padB, padR] = p.pads as [number, number, number, number];
  const [dh, dw] = p.dilations as [number, number];
  const [outH, outW] = p.outDims as [number, number];
  const inPlane = h * w;
  const outPlane = outH * outW;
  if (windows.length < 3 * (outH + outW)) windows = new Int32Array(3 * (outH + outW));
  const cw = 3 * outH;
  fillWindows(0, outH, sh, kh, dh, h, padT, padB);
  fillWindows(cw, outW, sw, kw, dw, w, padL, padR);
  for (let pl = 0; pl < n * c; pl++) {
    const base = pl * inPlane;
    let o = pl * outPlane;
    for (let oh = 0; oh < outH; oh++) {
      const rlo = windows[3 * oh], rhi = windows[3 * oh + 1], rpad = windows[3 * oh + 2];
      const rowBase = base + (oh * sh - padT) * w;
      for (let ow = 0; ow < outW; ow++, o++) {
        const clo = windows[cw + 3 * ow], chi = windows[cw + 3 * ow + 1];
        const r0 = rowBase + ow * sw - padL;
        if (mode === 0) {
          let m = -Infinity;
          for (let ti = rlo; ti < rhi; ti++) {
            const r = r0 + ti * dh * w;
            for (let tj = clo; tj < chi; tj++) {
              const v = x[r + tj * dw];
              if (v > m || v !== v) m = v;
            }
          }
          y[o] = m;
        } else {
          let s = 0;
          for (let ti = rlo; ti < rhi; ti++) {
            const r = r0 + ti * dh * w;
            for (let tj = clo; tj < chi; tj++) s += x[r + tj * dw];
          }
          const count = mode === 2 ? rpad * windows[cw + 3 * ow + 2] : (rhi - rlo) * (chi - clo);
          y[o] = count > 0 ? s / count : 0;
        }
      }
    }
  }
}
export function maxPool(x: Float32Array, y: Float32Array, p: PoolParams): void {
  poolAnyLayout(x, y, p, 0);
}

export function averagePool(x: Float32Array, y: Float32Array, p: PoolParams, countIncludePad: boolean): void {
  poolAnyLayout(x, y, p, countIncludePad ? 2 : 1);
}

/** pool on NCHW values, or on NHWC ones (p.nhwc) through NCHW copies: this backend plans no NHWC, so this path only serves one-off calls. */
function poolAnyLayout(x: Float32Array, y: Float32Array, p: PoolParams, mode: 0 | 1 | 2): void {
  if (!p.nhwc) return pool(x, y, p, mode);
  const [n, c, h, w] = p.inputDims as [number, number, number, number];
  const ohw = p.outDims[0]! * p.outDims[1]!;
  const xc = new Float32Array(n * c * h * w), yc = new Float32Array(n * c * ohw);
  reorder(x, xc, n, c, h * w, 'nchw');
  pool(xc, yc, p, mode);
  reorder(yc, y, n, c, ohw, 'nhwc');
}
