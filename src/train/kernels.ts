// Training kernels of the pure-TypeScript backend: the forward ops in training
// mode (batch-statistics BN, max-pool with argmax) and the backward of every op
// the graph IR has. Every function is generic over Float32Array and
// Float64Array, so that the finite-difference tests can run the whole forward
// and backward in float64; the trainer runs them in float32.
//
// Convolutions go through im2col and a GEMM per image and group, as the forward
// kernels do:  Y = W·col,  dW += dY·colᵀ,  dX = col2im(Wᵀ·dY),  db = Σ dY.
// Layouts are NCHW, weights [cOut, cIn/groups, kh, kw], gemm W [nOut, k].
import { convOutputSize } from '../shapes.js';

export type Arr = Float32Array | Float64Array;

export interface ConvGeom {
  n: number; cIn: number; h: number; w: number;
  cOut: number; kh: number; kw: number; groups: number;
  sh: number; sw: number; dh: number; dw: number;
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  outH: number; outW: number;
}

export function convGeom(
  xDims: readonly number[], wDims: readonly number[],
  a: { strides: readonly number[]; pads: readonly number[]; dilations: readonly number[]; groups: number },
): ConvGeom {
  const [n, cIn, h, w] = xDims as [number, number, number, number];
  const [cOut, , kh, kw] = wDims as [number, number, number, number];
  const [sh, sw] = a.strides as [number, number];
  const [dh, dw] = a.dilations as [number, number];
  const pads = [...a.pads] as [number, number, number, number];
  const outH = convOutputSize(h, kh, sh, pads[0], pads[2], dh);
  const outW = convOutputSize(w, kw, sw, pads[1], pads[3], dw);
  return { n, cIn, h, w, cOut, kh, kw, groups: a.groups, sh, sw, dh, dw, pads, outH, outW };
}

/** col[r, p] for r = (c·kh + i)·kw + j (c within group g), p = oy·outW + ox; zero outside the input. */
export function im2col(x: Arr, xOff: number, g: ConvGeom, group: number, col: Arr): void {
  const { h, w, kh, kw, sh, sw, dh, dw, outH, outW } = g;
  const cInG = g.cIn / g.groups;
  const [pt, pl] = g.pads;
  const plane = h * w;
  const P = outH * outW;
  let r = 0;
  for (let c = 0; c < cInG; c++) {
    const xc = xOff + (group * cInG + c) * plane;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, r++) {
        let d = r * P;
        for (let oy = 0; oy < outH; oy++) {
          const iy = oy * sh - pt + i * dh;
          if (iy < 0 || iy >= h) { col.fill(0, d, d + outW); d += outW; continue; }
          const row = xc + iy * w;
          for (let ox = 0; ox < outW; ox++) {
            const ix = ox * sw - pl + j * dw;
            col[d++] = ix >= 0 && ix < w ? x[row + ix]! : 0;
          }
        }
      }
    }
  }
}

/** dx[…] += col2im(col): the adjoint of im2col. */
export function col2im(col: Arr, g: ConvGeom, group: number, dx: Arr, dxOff: number): void {
  const { h, w, kh, kw, sh, sw, dh, dw, outH, outW } = g;
  const cInG = g.cIn / g.groups;
  const [pt, pl] = g.pads;
  const plane = h * w;
  const P = outH * outW;
  let r = 0;
  for (let c = 0; c < cInG; c++) {
    const xc = dxOff + (group * cInG + c) * plane;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, r++) {
        let d = r * P;
        for (let oy = 0; oy < outH; oy++) {
          const iy = oy * sh - pt + i * dh;
          if (iy < 0 || iy >= h) { d += outW; continue; }
          const row = xc + iy * w;
          for (let ox = 0; ox < outW; ox++, d++) {
            const ix = ox * sw - pl + j * dw;
            if (ix >= 0 && ix < w) dx[row + ix] += col[d]!;
          }
        }
      }
    }
  }
}

/** C[m×n] (+)= A[m×k] · B[k×n], all row-major at the given offsets. */
export function matmulNN(m: number, n: number, k: number, A: Arr, aOff: number, B: Arr, bOff: number, C: Arr, cOff: number, accumulate: boolean): void {
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    if (accumulate) for (let j = 0; j < n; j++) acc[j] = C[cOff + i * n + j]!;
    else acc.fill(0);
    for (let kk = 0; kk < k; kk++) {
      const a = A[aOff + i * k + kk]!;
      if (a === 0) continue;
      const b0 = bOff + kk * n;
      for (let j = 0; j < n; j++) acc[j] += a * B[b0 + j]!;
    }
    for (let j = 0; j < n; j++) C[cOff + i * n + j] = acc[j]!;
  }
}

/** C[m×n] (+)= A[m×k] · B[n×k]ᵀ. */
export function matmulNT(m: number, n: number, k: number, A: Arr, aOff: number, B: Arr, bOff: number, C: Arr, cOff: number, accumulate: boolean): void {
  for (let i = 0; i < m; i++) {
    const a0 = aOff + i * k;
    for (let j = 0; j < n; j++) {
      const b0 = bOff + j * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let kk = 0;
      for (; kk + 4 <= k; kk += 4) {
        s0 += A[a0 + kk]! * B[b0 + kk]!; s1 += A[a0 + kk + 1]! * B[b0 + kk + 1]!;
        s2 += A[a0 + kk + 2]! * B[b0 + kk + 2]!; s3 += A[a0 + kk + 3]! * B[b0 + kk + 3]!;
      }
      for (; kk < k; kk++) s0 += A[a0 + kk]! * B[b0 + kk]!;
      const s = s0 + s1 + s2 + s3;
      C[cOff + i * n + j] = accumulate ? C[cOff + i * n + j]! + s : s;
    }
  }
}

/** C[m×n] = A[k×m]ᵀ · B[k×n]. */
export function matmulTN(m: number, n: number, k: number, A: Arr, aOff: number, B: Arr, bOff: number, C: Arr, cOff: number): void {
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let kk = 0; kk < k; kk++) {
      const a = A[aOff + kk * m + i]!;
      if (a === 0) continue;
      const b0 = bOff + kk * n;
      for (let j = 0; j < n; j++) acc[j] += a * B[b0 + j]!;
    }
    for (let j = 0; j < n; j++) C[cOff + i * n + j] = acc[j]!;
  }
}

function scratchLike(x: Arr, n: number): Arr {
  return x instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/** y = conv(x, w) + bias (bias may be null). */
export function conv2dForward(x: Arr, w: Arr, bias: Arr | null, g: ConvGeom, y: Arr): void {
  const { n, cIn, h, cOut, kh, kw, groups, outH, outW } = g;
  const cInG = cIn / groups, cOutG = cOut / groups;
  const K = cInG * kh * kw, P = outH * outW;
  const col = scratchLike(x, K * P);
  for (let b = 0; b < n; b++) {
    for (let gr = 0; gr < groups; gr++) {
      im2col(x, b * cIn * h * g.w, g, gr, col);
      const yOff = (b * cOut + gr * cOutG) * P;
      matmulNN(cOutG, P, K, w, gr * cOutG * K, col, 0, y, yOff, false);
    }
  }
  if (bias) for (let b = 0; b < n; b++) for (let co = 0; co < cOut; co++) {
    const off = (b * cOut + co) * P, v = bias[co]!;
    for (let p = 0; p < P; p++) y[off + p] += v;
  }
}

export interface ConvGrads {
  /** Overwritten with ∂L/∂x (same shape as x). */
  dx?: Arr | null;
  /** Overwritten with ∂L/∂W. */
  dw?: Arr | null;
  /** Overwritten with ∂L/∂b. */
  db?: Arr | null;
}

/** Backward of y = conv(x, w) + b given dy; fills the requested gradients. */
export function conv2dBackward(x: Arr, w: Arr, dy: Arr, g: ConvGeom, out: ConvGrads): void {
  const { n, cIn, h, cOut, kh, kw, groups, outH, outW } = g;
  const cInG = cIn / groups, cOutG = cOut / groups;
  const K = cInG * kh * kw, P = outH * outW;
  const inImg = cIn * h * g.w;
  const col = scratchLike(x, K * P);
  const { dx, dw, db } = out;
  if (dx) dx.fill(0);
  if (dw) dw.fill(0);
  for (let b = 0; b < n; b++) {
    for (let gr = 0; gr < groups; gr++) {
      const yOff = (b * cOut + gr * cOutG) * P;
      if (dw) {
        im2col(x, b * inImg, g, gr, col);
        matmulNT(cOutG, K, P, dy, yOff, col, 0, dw, gr * cOutG * K, true);
      }
      if (dx) {
        matmulTN(K, P, cOutG, w, gr * cOutG * K, dy, yOff, col, 0);
        col2im(col, g, gr, dx, b * inImg);
      }
    }
  }
  if (db) {
    db.fill(0);
    for (let b = 0; b < n; b++) for (let co = 0; co < cOut; co++) {
      const off = (b * cOut + co) * P;
      let s = 0;
      for (let p = 0; p < P; p++) s += dy[off + p]!;
      db[co] += s;
    }
  }
}

/** dx = dy where y > 0 (y is the ReLU's output), else 0. dx may alias dy. */
export function reluBackward(y: Arr, dy: Arr, dx: Arr): void {
  for (let i = 0; i < dy.length; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
}

export function reluForward(x: Arr, y: Arr): void {
  for (let i = 0; i < x.length; i++) { const v = x[i]!; y[i] = v > 0 ? v : 0; }
}

/**
 * BatchNormalization in training mode over [n, c, hw]: batch mean and biased
 * variance per channel; saves mean and 1/sqrt(var + eps) for the backward, and
 * returns the unbiased variance for the running-statistics update.
 */
export function batchNormTrainForward(
  x: Arr, gamma: Arr, beta: Arr, eps: number, n: number, c: number, hw: number,
  y: Arr, saveMean: Float64Array, saveInvStd: Float64Array,
): void {
  const cnt = n * hw;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++) { const off = (b * c + ch) * hw; for (let i = 0; i < hw; i++) s += x[off + i]!; }
    const mean = s / cnt;
    let v = 0;
    for (let b = 0; b < n; b++) { const off = (b * c + ch) * hw; for (let i = 0; i < hw; i++) { const d = x[off + i]! - mean; v += d * d; } }
    const inv = 1 / Math.sqrt(v / cnt + eps);
    saveMean[ch] = mean; saveInvStd[ch] = inv;
    const sc = gamma[ch]! * inv, sh = beta[ch]! - mean * sc;
    for (let b = 0; b < n; b++) { const off = (b * c + ch) * hw; for (let i = 0; i < hw; i++) y[off + i] = x[off + i]! * sc + sh; }
  }
}

/** Inference-mode BN with running statistics. */
export function batchNormInferForward(x: Arr, gamma: Arr, beta: Arr, mean: Arr, variance: Arr, eps: number, n: number, c: number, hw: number, y: Arr): void {
  for (let ch = 0; ch < c; ch++) {
    const sc = gamma[ch]! / Math.sqrt(variance[ch]! + eps), sh = beta[ch]! - mean[ch]! * sc;
    for (let b = 0; b < n; b++) { const off = (b * c + ch) * hw; for (let i = 0; i < hw; i++) y[off + i] = x[off + i]! * sc + sh; }
  }
}

/**
 * Backward of training-mode BN: with x̂ = (x − μ)·σ⁻¹ and N = n·hw,
 * dβ = Σdy, dγ = Σdy·x̂, dx = γσ⁻¹/N · (N·dy − dβ − x̂·dγ).
 */
export function batchNormTrainBackward(
  x: Arr, gamma: Arr, dy: Arr, saveMean: Float64Array, saveInvStd: Float64Array,
  n: number, c: number, hw: number, dx: Arr | null, dgamma: Arr, dbeta: Arr,
): void {
  const cnt = n * hw;
  for (let ch = 0; ch < c; ch++) {
    const mean = saveMean[ch]!, inv = saveInvStd[ch]!;
    let sdy = 0, sdyx = 0;
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * hw;
      for (let i = 0; i < hw; i++) { const d = dy[off + i]!; sdy += d; sdyx += d * (x[off + i]! - mean); }
    }
    const dg = sdyx * inv;
    dgamma[ch] = dg; dbeta[ch] = sdy;
    if (!dx) continue;
    const k = gamma[ch]! * inv / cnt;
    const a = k * cnt, bcoef = -k * sdy, ccoef = -k * dg * inv;
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * hw;
      for (let i = 0; i < hw; i++) dx[off + i] = a * dy[off + i]! + bcoef + ccoef * (x[off + i]! - mean);
    }
  }
}

export interface PoolGeom {
  n: number; c: number; h: number; w: number;
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number;
  pads: [number, number, number, number];
  outH: number; outW: number;
}

/** Max-pool forward that records, per output, the flat index of the chosen input (−1 for an empty window). */
export function maxPoolForward(x: Arr, g: PoolGeom, y: Arr, argmax: Int32Array): void {
  const { n, c, h, w, kh, kw, sh, sw, dh, dw, outH, outW } = g;
  const [pt, pl] = g.pads;
  let o = 0;
  for (let pl2 = 0; pl2 < n * c; pl2++) {
    const base = pl2 * h * w;
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++, o++) {
        let m = -Infinity, at = -1;
        for (let i = 0; i < kh; i++) {
          const iy = oy * sh - pt + i * dh;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = ox * sw - pl + j * dw;
            if (ix < 0 || ix >= w) continue;
            const v = x[base + iy * w + ix]!;
            if (v > m || at < 0) { m = v; at = base + iy * w + ix; }
          }
        }
        y[o] = m;
        argmax[o] = at;
      }
    }
  }
}

/** dx = scatter-add of dy to the argmax positions. */
export function maxPoolBackward(dy: Arr, argmax: Int32Array, dx: Arr): void {
  dx.fill(0);
  for (let o = 0; o < dy.length; o++) { const a = argmax[o]!; if (a >= 0) dx[a] += dy[o]!; }
}

export function globalAveragePoolForward(x: Arr, planes: number, hw: number, y: Arr): void {
  for (let p = 0; p < planes; p++) {
    let s = 0;
    for (let i = 0; i < hw; i++) s += x[p * hw + i]!;
    y[p] = s / hw;
  }
}

/** dx[p, i] = dy[p] / hw. */
export function globalAveragePoolBackward(dy: Arr, planes: number, hw: number, dx: Arr): void {
  for (let p = 0; p < planes; p++) { const v = dy[p]! / hw; dx.fill(v, p * hw, (p + 1) * hw); }
}

/** y[m, nOut] = x[m, k] · Wᵀ + b. */
export function gemmForward(x: Arr, w: Arr, b: Arr | null, m: number, k: number, nOut: number, y: Arr): void {
  matmulNT(m, nOut, k, x, 0, w, 0, y, 0, false);
  if (b) for (let i = 0; i < m; i++) for (let j = 0; j < nOut; j++) y[i * nOut + j] += b[j]!;
}

/** dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy. */
export function gemmBackward(x: Arr, w: Arr, dy: Arr, m: number, k: number, nOut: number, dx: Arr | null, dw: Arr | null, db: Arr | null): void {
  if (dx) matmulNN(m, k, nOut, dy, 0, w, 0, dx, 0, false);
  if (dw) matmulTN(nOut, k, m, dy, 0, x, 0, dw, 0);
  if (db) {
    db.fill(0);
    for (let i = 0; i < m; i++) for (let j = 0; j < nOut; j++) db[j] += dy[i * nOut + j]!;
  }
}

/**
 * Mean softmax cross-entropy over m rows of logits [m, classes]; fills
 * dlogits = (softmax − onehot)/m when given. Returns the loss and the number
 * of rows whose arg-max is the label.
 */
export function softmaxCrossEntropy(logits: Arr, labels: ArrayLike<number>, m: number, classes: number, dlogits: Arr | null): { loss: number; correct: number } {
  let loss = 0, correct = 0;
  for (let i = 0; i < m; i++) {
    const off = i * classes;
    let mx = -Infinity, arg = 0;
    for (let j = 0; j < classes; j++) { const v = logits[off + j]!; if (v > mx) { mx = v; arg = j; } }
    let s = 0;
    for (let j = 0; j < classes; j++) s += Math.exp(logits[off + j]! - mx);
    const lse = mx + Math.log(s);
    const label = labels[i]!;
    loss += lse - logits[off + label]!;
    if (arg === label) correct++;
    if (dlogits) {
      for (let j = 0; j < classes; j++) dlogits[off + j] = (Math.exp(logits[off + j]! - lse) - (j === label ? 1 : 0)) / m;
    }
  }
  return { loss: loss / m, correct };
}
