// The JS kernel of a QuantizeDequantize step (an ONNX QuantizeLinear →
// DequantizeLinear pair on an activation), elementwise; y may be x.
import type { QuantParams } from '../graph/graph.js';
import { dequantizeValue, quantizeValue } from '../quant/linear.js';

export function quantizeDequantize(x: Float32Array, y: Float32Array, count: number, q: QuantParams): void {
  for (let i = 0; i < count; i++) y[i] = dequantizeValue(quantizeValue(x[i]!, q.scale, q.zeroPoint, q.qmin, q.qmax), q.scale, q.zeroPoint);
}
