// ONNX Runtime's QLinearAdd arithmetic (the DQ → Add → Q residual adds of a
// QDQ model, which its QDQ transformer fuses into one QLinearAdd), so that our
// integers are its integers. ORT runs MLAS's AVX2 kernel on x86 (AVX-512
// machines too), which computes in float32 with fused multiply-adds:
//   ratioA = fl(scaleA / scaleC), ratioB = fl(scaleB / scaleC)
//   fixed  = fl(zC − fma(ratioA, zA, fl(ratioB · zB)))
//   c      = saturate(roundHalfEven(fma(qA, ratioA, fma(qB, ratioB, fixed))))
// Int8 tensors run as uint8 shifted by 128 (ORT's x86 QDQ rewrite turns int8
// activations into uint8 ones before fusing), so every q and z above is
// shifted by `shift` = 128 for them. Checked against onnxruntime-node over
// every (qA, qB) pair for random scales and zero points in
// test/int8-qlinear-add.test.ts.
import type { QLinearAddParams, QuantParams } from '../graph/graph.js';
import { quantizeValue, roundHalfEven } from './linear.js';

const f32 = Math.fround;

/** fma(a, b, c) rounded once to float32, for float32 a, b, c (as C's fmaf). */
export function fmaf32(a: number, b: number, c: number): number {
  const p = a * b; // exact: two 24-bit significands fit in a double's 53
  const s = p + c;
  const bv = s - p;
  const err = (p - (s - bv)) + (c - bv); // s + err = p + c exactly (TwoSum)
  const r = f32(s);
  if (err === 0 || r === s) return r;
  // Rounding s to float32 rounded twice only if s lies exactly halfway between r and its neighbour r2.
  const half = s - r;
  const r2 = r + 2 * half;
  if (f32(r2) !== r2) return r;
  return Math.sign(err) === Math.sign(half) ? r2 : r;
}

/** ORT's coefficients for c = a + b with these quantizations (relu: c is also clamped below at its zero point). */
export function qlinearAddParams(a: QuantParams, b: QuantParams, y: QuantParams, relu: boolean): QLinearAddParams {
  const shift = a.qmin < 0 ? 128 : 0;
  const ratioA = f32(a.scale / y.scale), ratioB = f32(b.scale / y.scale);
  const fixed = f32(y.zeroPoint + shift - fmaf32(ratioA, a.zeroPoint + shift, f32(ratioB * (b.zeroPoint + shift))));
  return {
    aScale: a.scale, aZeroPoint: a.zeroPoint, bScale: b.scale, bZeroPoint: b.zeroPoint, ratioA, ratioB, fixed, shift,
    y: { ...y, qmin: relu ? Math.max(y.qmin, y.zeroPoint) : y.qmin },
  };
}

/** The quantized sum of two dequantized operand values, dequantized again (float32). */
export function qlinearAddValue(xa: number, xb: number, p: QLinearAddParams): number {
  const qa = quantizeValue(xa, p.aScale, p.aZeroPoint, -Infinity, Infinity) + p.shift;
  const qb = quantizeValue(xb, p.bScale, p.bZeroPoint, -Infinity, Infinity) + p.shift;
  return f32((qlinearAddInteger(qa, qb, p) - p.y.zeroPoint) * p.y.scale);
}

/** The output integer (unshifted, clamped) from the shifted operand integers qa' and qb'. */
function qlinearAddInteger(qa: number, qb: number, p: QLinearAddParams): number {
  // + 0: the integer c has no sign of zero (a sum that rounds up to 0 from below gives -0).
  const c = roundHalfEven(fmaf32(qa, p.ratioA, fmaf32(qb, p.ratioB, p.fixed))) - p.shift + 0;
  return c < p.y.qmin ? p.y.qmin : c > p.y.qmax ? p.y.qmax : c;
}

/** QLinearAdd on stored bytes (the shifted integers qa', qb'): the output's byte, c + shift. */
export function qlinearAddBytesValue(qa: number, qb: number, p: QLinearAddParams): number {
  return qlinearAddInteger(qa, qb, p) + p.shift;
}
