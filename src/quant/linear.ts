// ONNX's linear quantization arithmetic, in one place for the importer (which
// dequantizes int8 weights once), the JS kernels and the quantizer:
//   q = saturate(roundHalfEven(x / scale) + zeroPoint),  x' = (q − zeroPoint) · scale
// computed in float32 as ONNX Runtime does (a float32 division, then the
// rounding), so that our values are the ones its QuantizeLinear produces.

/** The ranges of the quantized element types ONNX's QuantizeLinear writes. */
export const QUANT_RANGES = {
  uint8: { qmin: 0, qmax: 255 },
  int8: { qmin: -128, qmax: 127 },
  int32: { qmin: -(2 ** 31), qmax: 2 ** 31 - 1 },
} as const;
export type QuantType = keyof typeof QUANT_RANGES;

/** Round to the nearest integer, ties to even (ONNX's QuantizeLinear rounding). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // ties toward +∞
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** q = saturate(roundHalfEven(fround(x / scale)) + zeroPoint) */
export function quantizeValue(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  const q = roundHalfEven(Math.fround(x / scale)) + zeroPoint;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

/** The float32 value a quantized q stands for. */
export function dequantizeValue(q: number, scale: number, zeroPoint: number): number {
  return Math.fround((q - zeroPoint) * scale);
}
