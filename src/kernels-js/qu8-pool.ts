// The JS kernels of the quantized pooling steps (native/cpu/qpool/qu8_pool.h has the same
// arithmetic): a max pool on u8 NHWC bytes, and ONNX Runtime's QLinearGlobalAveragePool from u8
// NHWC bytes or from float32 NCHW values on the input's grid, written as dequantized float32.
import type { PoolParams, QGlobalAveragePoolParams } from '../backend/types.js';
import { roundHalfEven } from '../quant/linear.js';

/** y (u8 NHWC [n, outH, outW, c]) = the max pool of x (u8 NHWC; p.inputDims [n, c, h, w]); padded taps skipped. */
export function qu8MaxPoolNhwc(x: Uint8Array, y: Uint8Array, p: PoolParams): void {
  const [n, c, h, w] = p.inputDims as [number, number, number, number];
  const [oh, ow] = p.outDims as [number, number];
  const [kh, kw] = p.kernel as [number, number];
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ch = 0; ch < c; ch++) {
          let m = -1;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * p.strides[0]! - p.pads[0]! + ky * p.dilations[0]!;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * p.strides[1]! - p.pads[1]! + kx * p.dilations[1]!;
              if (ix >= 0 && ix < w) m = Math.max(m, x[((b * h + iy) * w + ix) * c + ch]!);
            }
          }
          if (m < 0) throw new RangeError(`qu8MaxPool: a window at output (${oy}, ${ox}) has no tap inside the input`);
          y[((b * oh + oy) * ow + ox) * c + ch] = m;
        }
}

/** y[n, c] = the quantized mean of x (u8 NHWC bytes [n, hw, c], or float32 NCHW [n, c, hw] on x's grid), dequantized. */
export function qGlobalAveragePool(x: Uint8Array | Float32Array, y: Float32Array, n: number, c: number, hw: number, q: QGlobalAveragePoolParams): void {
  const bytes = x instanceof Uint8Array;
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      if (bytes) {
        for (let i = 0; i < hw; i++) s += x[(b * hw + i) * c + ch]!;
        s -= hw * q.xZeroPoint;
      } else {
        for (let i = 0; i < hw; i++) s += roundHalfEven(Math.fround(x[(b * c + ch) * hw + i]! / q.xScale));
      }
      const v = roundHalfEven(Math.fround(s * q.multiplier)) + q.yZeroPoint;
      const qv = v < q.qmin ? q.qmin : v > q.qmax ? q.qmax : v;
      y[b * c + ch] = Math.fround((qv - q.yZeroPoint) * q.yScale);
    }
}
