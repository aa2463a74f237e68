// Random pooling configurations shared by the maxPool and averagePool tests.
import fc from 'fast-check';
import { outSize } from './reference.js';

export interface PoolCase {
  n: number;
  c: number;
  h: number;
  w: number;
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
  dilation: [number, number];
  ceilMode: boolean;
  sync: boolean;
  threads: number;
  seed: number;
}

/**
 * Kernels 1–5 (often 3), strides 1–3, asymmetric pads smaller than the window,
 * dilation 1–2 when withDilation, ceil_mode on and off; every case has at least one output.
 */
export function poolCase(withDilation: boolean): fc.Arbitrary<Omit<PoolCase, 'seed'>> {
  const k = fc.oneof(fc.constant(3), fc.integer({ min: 1, max: 5 }));
  return fc
    .record({
      n: fc.integer({ min: 1, max: 3 }),
      c: fc.integer({ min: 1, max: 19 }),
      kh: k,
      kw: fc.oneof(fc.constant(-1), k),
      sh: fc.integer({ min: 1, max: 3 }),
      sw: fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 3 })),
      dh: withDilation ? fc.integer({ min: 1, max: 2 }) : fc.constant(1),
      dw: withDilation ? fc.integer({ min: 1, max: 2 }) : fc.constant(1),
      pads: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)),
      extraH: fc.nat(14),
      extraW: fc.nat(14),
      ceilMode: fc.boolean(),
      sync: fc.boolean(),
      threads: fc.integer({ min: 1, max: 3 }),
    })
    .map((r) => {
      const kh = r.kh;
      const kw = r.kw < 0 ? r.kh : r.kw;
      const extH = (kh - 1) * r.dh + 1;
      const extW = (kw - 1) * r.dw + 1;
      // ONNX: pads must be smaller than the window.
      const pads = [
        Math.min(r.pads[0], extH - 1), Math.min(r.pads[1], extW - 1),
        Math.min(r.pads[2], extH - 1), Math.min(r.pads[3], extW - 1),
      ] as [number, number, number, number];
      const h = Math.max(1, extH - pads[0] - pads[2]) + r.extraH;
      const w = Math.max(1, extW - pads[1] - pads[3]) + r.extraW;
      const stride: [number, number] = [r.sh, r.sw < 0 ? r.sh : r.sw];
      // Keep cases where every output (ceil_mode included) is at least 1.
      if (outSize(h, kh, stride[0], pads[0], pads[2], r.dh, r.ceilMode) < 1) throw new Error('unreachable: empty pool');
      return { n: r.n, c: r.c, h, w, kernel: [kh, kw], stride, pads, dilation: [r.dh, r.dw], ceilMode: r.ceilMode, sync: r.sync, threads: r.threads };
    });
}
