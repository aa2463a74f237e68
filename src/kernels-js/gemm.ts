// The blocked GEMM driver of the pure-JS backend:
//   C[M×N] = epilogue(bias + A[M×K] · B[K×N])
// A is packed once (packA) into panels of MR rows, k-major, zero-padded to a
// multiple of MR. B and C are plain row-major views (base offset + row stride),
// so a 1×1 convolution can read its input directly as B. K is blocked by KC so
// that the B rows a micro-kernel streams stay in L1 for the next tile; partial
// sums go through C between K blocks, and bias/residual/ReLU are applied by the
// micro-kernel as the last K block stores its tile.
import { GEMM_ACCUMULATE, GEMM_RELU, GEMM_RESIDUAL } from './gemm-flags.js';
import { f32_gemm_4x8__js } from './f32_gemm_4x8__js.js';

/** Rows of A (output channels) per micro-tile. */
export const MR = 4;
/** Columns of B (output pixels) per micro-tile. */
export const NR = 8;
/** K block: the B rows a tile streams (KC × NR floats), kept in L1 across tiles. */
export const KC = 256;
/** Column block: the B block (KC × NC) is reused by every row panel from L2. */
export const NC = 512;

const microkernel = f32_gemm_4x8__js;

/** Length of the packed form of an M×K matrix. */
export function packedLength(m: number, k: number): number {
  return Math.ceil(m / MR) * MR * k;
}

/**
 * Packs rows [row0, row0 + m) of a row-major matrix W (row stride k) into
 * dst[dstOff…]: panel p holds, for each kk, W[p·MR + i][kk] for i < MR
 * (zero past row m).
 */
export function packA(w: Float32Array, row0: number, m: number, k: number, dst: Float32Array, dstOff: number): void {
  for (let p = 0; p < m; p += MR) {
    const base = dstOff + p * k;
    for (let i = 0; i < MR; i++) {
      const row = p + i;
      if (row >= m) continue; // dst is zero-initialised
      const src = (row0 + row) * k;
      for (let kk = 0; kk < k; kk++) dst[base + kk * MR + i] = w[src + kk];
    }
  }
}

/**
 * One column of a full MR-row tile (the right edge of B), same contract as the
 * micro-kernel with NR = 1.
 */
function gemmColumn(
  kc: number, A: Float32Array, ap: number, B: Float32Array, bp: number, ldb: number,
  C: Float32Array, cp: number, ldc: number, bias: Float32Array, bo: number, R: Float32Array, rp: number, flags: number,
): void {
  let c0: number, c1: number, c2: number, c3: number;
  if ((flags & GEMM_ACCUMULATE) !== 0) {
    c0 = C[cp]; c1 = C[cp + ldc]; c2 = C[cp + 2 * ldc]; c3 = C[cp + 3 * ldc];
  } else {
    c0 = bias[bo]; c1 = bias[bo + 1]; c2 = bias[bo + 2]; c3 = bias[bo + 3];
  }
  for (let k = 0; k < kc; k++) {
    const b = B[bp];
    c0 += A[ap] * b; c1 += A[ap + 1] * b; c2 += A[ap + 2] * b; c3 += A[ap + 3] * b;
    ap += MR;
    bp += ldb;
  }
  if ((flags & GEMM_RESIDUAL) !== 0) {
    c0 += R[rp]; c1 += R[rp + ldc]; c2 += R[rp + 2 * ldc]; c3 += R[rp + 3 * ldc];
  }
  if ((flags & GEMM_RELU) !== 0) {
    c0 = c0 > 0 ? c0 : 0; c1 = c1 > 0 ? c1 : 0; c2 = c2 > 0 ? c2 : 0; c3 = c3 > 0 ? c3 : 0;
  }
  C[cp] = c0; C[cp + ldc] = c1; C[cp + 2 * ldc] = c2; C[cp + 3 * ldc] = c3;
}

/** A partial tile (mr < MR rows, nr ≤ NR columns): plain loops, same contract. */
function gemmEdge(
  mr: number, nr: number, kc: number, A: Float32Array, ap: number, B: Float32Array, bp: number, ldb: number,
  C: Float32Array, cp: number, ldc: number, bias: Float32Array, bo: number, R: Float32Array, rp: number, flags: number,
): void {
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      const c = cp + i * ldc + j;
      let acc = (flags & GEMM_ACCUMULATE) !== 0 ? C[c] : bias[bo + i];
      for (let k = 0, a = ap + i, b = bp + j; k < kc; k++, a += MR, b += ldb) acc += A[a] * B[b];
      if ((flags & GEMM_RESIDUAL) !== 0) acc += R[rp + i * ldc + j];
      if ((flags & GEMM_RELU) !== 0 && !(acc > 0)) acc = 0;
      C[c] = acc;
    }
  }
}

/**
 * C[cOff + i·ldc + j] = relu?(bias[biasOff + i] + Σ_k A[i,k]·B[bOff + k·ldb + j] + R[rOff + i·ldc + j])
 * for i < m, j < n. A is packA's output for those m rows, starting at aOff.
 * R is the residual (null for none); it may not alias B.
 */
export function gemmPacked(
  m: number, n: number, k: number,
  A: Float32Array, aOff: number,
  B: Float32Array, bOff: number, ldb: number,
  C: Float32Array, cOff: number, ldc: number,
  bias: Float32Array, biasOff: number,
  R: Float32Array | null, rOff: number, relu: boolean,
): void {
  const res = R ?? C;
  const panelStride = MR * k;
  for (let pc = 0; pc < k; pc += KC) {
    const kc = Math.min(KC, k - pc);
    const last = pc + kc >= k;
    const flags = (pc > 0 ? GEMM_ACCUMULATE : 0) | (last && R !== null ? GEMM_RESIDUAL : 0) | (last && relu ? GEMM_RELU : 0);
    for (let jc = 0; jc < n; jc += NC) {
      const jEnd = Math.min(n, jc + NC);
      const jFull = jc + Math.floor((jEnd - jc) / NR) * NR;
      for (let ir = 0; ir < m; ir += MR) {
        const mr = Math.min(MR, m - ir);
        const ap = aOff + (ir / MR) * panelStride + pc * MR;
        const bp = bOff + pc * ldb;
        const row = ir * ldc;
        const bo = biasOff + ir;
        if (mr === MR) {
          for (let jr = jc; jr < jFull; jr += NR) {
            microkernel(kc, A, ap, B, bp + jr, ldb, C, cOff + row + jr, ldc, bias, bo, res, rOff + row + jr, flags);
          }
          for (let jr = jFull; jr < jEnd; jr++) {
            gemmColumn(kc, A, ap, B, bp + jr, ldb, C, cOff + row + jr, ldc, bias, bo, res, rOff + row + jr, flags);
          }
        } else {
          for (let jr = jc; jr < jEnd; jr += NR) {
            gemmEdge(mr, Math.min(NR, jEnd - jr), kc, A, ap, B, bp + jr, ldb, C, cOff + row + jr, ldc, bias, bo, res, rOff + row + jr, flags);
          }
        }
      }
    }
  }
}
