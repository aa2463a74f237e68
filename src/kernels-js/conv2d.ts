// conv2d of the pure-JS backend, NCHW float32, with a fused epilogue:
//   y = relu?(conv(x, W) + bias + residual), or with p.clip that clamped
//   to [clip[0], clip[1]] (a fused Clip), or with p.act the unary function of
//   it (a fused SiLU, HardSwish, ...): both applied to the finished output here.
// Paths:
// - 1×1, stride 1, no padding: a GEMM that reads the input in place (no im2col).
// - cOut/groups ≥ 3: im2col of a band of output rows into a reused scratch
//   buffer, then the packed, register-blocked GEMM (the band keeps B in L2).
// - cOut/groups ≤ 2 (depthwise and the like): a direct convolution that
//   accumulates whole output rows in float64, where GEMM tiles would be empty.
import { reorder } from './layout.js';
import type { ConvParams } from '../backend/types.js';
import { gemmPacked, NC, packA, packedLength } from './gemm.js';
import { im2col, type Im2colGeometry } from './im2col.js';
import { scratchF32, scratchF64 } from './scratch.js';
import { unary } from './unary.js';

export interface JsConvWeights {
  readonly backend: 'js';
  readonly cOut: number;
  readonly cInPerGroup: number;
  readonly kh: number;
  readonly kw: number;
  readonly groups: number;
  /** cInPerGroup · kh · kw */
  readonly k: number;
  /** GEMM path: per group, packA's panels (packedLength(cOut/groups, k) each); direct path: W as given. */
  readonly a: Float32Array;
  readonly groupStride: number;
  /** [cOut], zeros when there is no bias. */
  readonly bias: Float32Array;
  readonly direct: boolean;
}

/** Output channels per group at or below which the direct path wins. */
const DIRECT_MAX_COUT_PER_GROUP = 2;
/** Target number of output pixels per im2col band. */
const BAND_COLUMNS = NC;

export function packConv2d(
  weight: Float32Array, bias: Float32Array | null,
  cOut: number, cInPerGroup: number, kh: number, kw: number, groups: number,
): JsConvWeights {
  const k = cInPerGroup * kh * kw;
  const cOutG = cOut / groups;
  const b = new Float32Array(cOut);
  if (bias) b.set(bias.subarray(0, cOut));
  const direct = cOutG <= DIRECT_MAX_COUT_PER_GROUP;
  if (direct) {
    return { backend: 'js', cOut, cInPerGroup, kh, kw, groups, k, a: weight.slice(0, cOut * k), groupStride: cOutG * k, bias: b, direct };
  }
  const groupStride = packedLength(cOutG, k);
  const a = new Float32Array(groupStride * groups);
  for (let g = 0; g < groups; g++) packA(weight, g * cOutG, cOutG, k, a, g * groupStride);
  return { backend: 'js', cOut, cInPerGroup, kh, kw, groups, k, a, groupStride, bias: b, direct };
}

export function conv2d(pw: JsConvWeights, x: Float32Array, residual: Float32Array | null, y: Float32Array, p: ConvParams): void {
  if (p.yNhwc) {
    // An NHWC y (a one-off call: this backend plans no NHWC): the NCHW result, reordered.
    if (residual || p.act) throw new RangeError('conv2d: p.yNhwc takes no residual and no p.act');
    const n = p.inputDims[0]!;
    const plane = p.outDims[0]! * p.outDims[1]!;
    const nchw = new Float32Array(n * pw.cOut * plane);
    conv2d(pw, x, null, nchw, { ...p, yNhwc: false });
    return reorder(nchw, y, n, pw.cOut, plane, 'nhwc');
  }
  const [n, cIn, h, w] = p.inputDims as [number, number, number, number];
  const [outH, outW] = p.outDims as [number, number];
  const { kh, kw, groups, cOut } = pw;
  const geo: Im2colGeometry = {
    cIn: cIn / groups, h, w, kh, kw,
    sh: p.strides[0], sw: p.strides[1],
    padT: p.pads[0], padL: p.pads[1],
    dh: p.dilations[0], dw: p.dilations[1],
    outH, outW,
  };
  if (pw.direct) convDirect(pw, x, residual, y, p.relu, n, cIn, geo);
  else convGemm(pw, x, residual, y, p, geo);
  if (p.clip) clampInPlace(y.subarray(0, n * cOut * outH * outW), p.clip[0], p.clip[1]);
  if (p.act) unary(p.act.fn, p.act.alpha, p.act.beta, y, y, n * cOut * outH * outW);
}

/** y = min(max(y, lo), hi); NaN passes through (both comparisons are false). */
function clampInPlace(y: Float32Array, lo: number, hi: number): void {
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (v < lo) y[i] = lo;
    else if (v > hi) y[i] = hi;
  }
}

/** The im2col (or in-place 1×1) + packed GEMM path of conv2d. */
function convGemm(pw: JsConvWeights, x: Float32Array, residual: Float32Array | null, y: Float32Array, p: ConvParams, geo: Im2colGeometry): void {
  const [n, cIn, h, w] = p.inputDims as [number, number, number, number];
  const { outH, outW } = geo;
  const { kh, kw, groups, k, cOut } = pw;
  const cInG = cIn / groups;
  const cOutG = cOut / groups;
  const outPlane = outH * outW;
  const inPlane = h * w;
  const pointwise = kh === 1 && kw === 1 && geo.sh === 1 && geo.sw === 1 &&
    geo.padT === 0 && geo.padL === 0 && p.pads[2] === 0 && p.pads[3] === 0;
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < groups; g++) {
      const xOff = (b * cIn + g * cInG) * inPlane;
      const yOff = (b * cOut + g * cOutG) * outPlane;
      const aOff = g * pw.groupStride;
      if (pointwise) {
        gemmPacked(cOutG, outPlane, k, pw.a, aOff, x, xOff, inPlane, y, yOff, outPlane,
          pw.bias, g * cOutG, residual, yOff, p.relu);
        continue;
      }
      const bandRows = Math.max(1, Math.min(outH, Math.floor(BAND_COLUMNS / outW)));
      const B = scratchF32(k * bandRows * outW);
      for (let oh0 = 0; oh0 < outH; oh0 += bandRows) {
        const oh1 = Math.min(outH, oh0 + bandRows);
        const cols = (oh1 - oh0) * outW;
        im2col(x, xOff, geo, oh0, oh1, B);
        const cOff = yOff + oh0 * outW;
        gemmPacked(cOutG, cols, k, pw.a, aOff, B, 0, cols, y, cOff, outPlane,
          pw.bias, g * cOutG, residual, cOff, p.relu);
      }
    }
  }
}

/** Direct convolution, one output plane at a time, accumulated in float64. */
function convDirect(
  pw: JsConvWeights, x: Float32Array, residual: Float32Array | null, y: Float32Array, relu: boolean,
  n: number, cIn: number, geo: Im2colGeometry,
): void {
  const { cIn: cInG, h, w, kh, kw, sh, sw, padT, padL, dh, dw, outH, outW } = geo;
  const { cOut, groups, a: wt, bias } = pw;
  const cOutG = cOut / groups;
  const outPlane = outH * outW;
  const inPlane = h * w;
  const acc = scratchF64(outPlane);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cOut; co++) {
      const g = Math.floor(co / cOutG);
      acc.fill(bias[co], 0, outPlane);
      for (let c = 0; c < cInG; c++) {
        const xc = (b * cIn + g * cInG + c) * inPlane;
        const wc = (co * cInG + c) * kh * kw;
        for (let ki = 0; ki < kh; ki++) {
          // Output rows whose input row lies in [0, h).
          const rshift = ki * dh - padT;
          const ohLo = rshift >= 0 ? 0 : Math.min(outH, Math.ceil(-rshift / sh));
          const ohHi = Math.max(ohLo, Math.min(outH, Math.floor((h - 1 - rshift) / sh) + 1));
          for (let kj = 0; kj < kw; kj++) {
            const wv = wt[wc + ki * kw + kj];
            const shift = kj * dw - padL;
            const lo = shift >= 0 ? 0 : Math.min(outW, Math.ceil(-shift / sw));
            const hi = Math.max(lo, Math.min(outW, Math.floor((w - 1 - shift) / sw) + 1));
            for (let oh = ohLo; oh < ohHi; oh++) {
              let s = xc + (oh * sh + rshift) * w + lo * sw + shift;
              const d0 = oh * outW;
              if (sw === 1) {
                for (let ox = d0 + lo, e = d0 + hi; ox < e; ox++) acc[ox] += wv * x[s++];
              } else {
                for (let ox = d0 + lo, e = d0 + hi; ox < e; ox++, s += sw) acc[ox] += wv * x[s];
              }
            }
          }
        }
      }
      const yOff = (b * cOut + co) * outPlane;
      for (let i = 0; i < outPlane; i++) {
        let v = acc[i];
        if (residual) v += residual[yOff + i];
        if (relu && !(v > 0)) v = 0;
        y[yOff + i] = v;
      }
    }
  }
}
