// The JS kernel of a QuantizeDequantize step (an ONNX QuantizeLinear →
// DequantizeLinear pair on an activation), elementwise; y may be x. Also the
// Requantize and QLinearAdd steps of the planner's integer patterns.
import type { QLinearAddParams, QuantParams } from '../graph/graph.js';
import type { RequantParams } from '../backend/types.js';
import { dequantizeValue, quantizeValue, roundHalfEven } from '../quant/linear.js';
import { qlinearAddBytesValue, qlinearAddValue } from '../quant/qlinear-add.js';

export function quantizeDequantize(x: Float32Array, y: Float32Array, count: number, q: QuantParams): void {
  for (let i = 0; i < count; i++) y[i] = dequantizeValue(quantizeValue(x[i]!, q.scale, q.zeroPoint, q.qmin, q.qmax), q.scale, q.zeroPoint);
}

/** Integer-exact requantization per channel of [outer, channels, inner] (see RequantizeNode); y may be x. */
export function requantize(x: Float32Array, y: Float32Array, count: number, channels: number, inner: number, r: RequantParams): void {
  const per = r.multipliers.length > 1;
  for (let i = 0; i < count; i++) {
    const m = r.multipliers[per ? Math.floor(i / inner) % channels : 0]!;
    const v = roundHalfEven(Math.fround(Math.fround(x[i]! * m) / r.divisor)) + r.zeroPoint;
    const q = v < r.qmin ? r.qmin : v > r.qmax ? r.qmax : v;
    y[i] = Math.fround((q - r.zeroPoint) * r.outScale);
  }
}

/** A QLinearAdd step (ONNX Runtime's arithmetic, src/quant/qlinear-add.ts) on dequantized operands; y may be a or b. */
export function qlinearAdd(a: Float32Array, b: Float32Array, y: Float32Array, count: number, p: QLinearAddParams): void {
  for (let i = 0; i < count; i++) y[i] = qlinearAddValue(a[i]!, b[i]!, p);
}

/** The same QLinearAdd on quantized bytes in the shifted u8 domain (a value the plan keeps as u8 NHWC); y may be a or b. */
export function qlinearAddBytes(a: Uint8Array, b: Uint8Array, y: Uint8Array, count: number, p: QLinearAddParams): void {
  for (let i = 0; i < count; i++) y[i] = qlinearAddBytesValue(a[i]!, b[i]!, p);
}
