// The training kernels behind one interface, with two implementations:
// - js: src/train/kernels.ts (generic over float32/float64);
// - native: the addon's forward conv/gemm kernels plus its backward kernels
//   (native/cpu/backward/*, bound in native/napi/backward.cc), float32 only.
//   Any op the loaded addon lacks falls back to the JS kernel.
import { nativeBinding } from '../native.js';
import type { NativeBinding } from '../native-binding.js';
import * as K from './kernels.js';
import type { Arr, ConvGeom, ConvGrads, PoolGeom } from './kernels.js';

export type TrainBackendName = 'js' | 'native';

export interface TrainKernels {
  readonly name: TrainBackendName;
  conv2dForward(x: Arr, w: Arr, bias: Arr | null, g: ConvGeom, y: Arr): void;
  conv2dBackward(x: Arr, w: Arr, dy: Arr, g: ConvGeom, out: ConvGrads): void;
  batchNormTrainForward(x: Arr, gamma: Arr, beta: Arr, eps: number, n: number, c: number, hw: number, y: Arr, saveMean: Float64Array, saveInvStd: Float64Array): void;
  batchNormTrainBackward(x: Arr, gamma: Arr, dy: Arr, saveMean: Float64Array, saveInvStd: Float64Array, n: number, c: number, hw: number, dx: Arr | null, dgamma: Arr, dbeta: Arr): void;
  reluForward(x: Arr, y: Arr): void;
  reluBackward(y: Arr, dy: Arr, dx: Arr): void;
  maxPoolForward(x: Arr, g: PoolGeom, y: Arr, argmax: Int32Array): void;
  maxPoolBackward(dy: Arr, argmax: Int32Array, dx: Arr): void;
  globalAveragePoolForward(x: Arr, planes: number, hw: number, y: Arr): void;
  globalAveragePoolBackward(dy: Arr, planes: number, hw: number, dx: Arr): void;
  gemmForward(x: Arr, w: Arr, b: Arr | null, m: number, k: number, nOut: number, y: Arr): void;
  gemmBackward(x: Arr, w: Arr, dy: Arr, m: number, k: number, nOut: number, dx: Arr | null, dw: Arr | null, db: Arr | null): void;
}

export const jsTrainKernels: TrainKernels = {
  name: 'js',
  conv2dForward: K.conv2dForward,
  conv2dBackward: K.conv2dBackward,
  batchNormTrainForward: K.batchNormTrainForward,
  batchNormTrainBackward: K.batchNormTrainBackward,
  reluForward: K.reluForward,
  reluBackward: K.reluBackward,
  maxPoolForward: K.maxPoolForward,
  maxPoolBackward: K.maxPoolBackward,
  globalAveragePoolForward: K.globalAveragePoolForward,
  globalAveragePoolBackward: K.globalAveragePoolBackward,
  gemmForward: K.gemmForward,
  gemmBackward: K.gemmBackward,
};

/** The addon's backward entry points (native/napi/backward.cc); all [sync], float32. */
export interface NativeBackwardBinding {
  conv2dBackwardSync(x: Float32Array, w: Float32Array, dy: Float32Array, dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null, p: NativeConvBackwardParams): void;
  batchNormTrainForwardSync(x: Float32Array, gamma: Float32Array, beta: Float32Array, eps: number, n: number, c: number, hw: number, y: Float32Array, saveMean: Float64Array, saveInvStd: Float64Array, threads: number): void;
  batchNormTrainBackwardSync(x: Float32Array, gamma: Float32Array, dy: Float32Array, saveMean: Float64Array, saveInvStd: Float64Array, n: number, c: number, hw: number, dx: Float32Array | null, dgamma: Float32Array, dbeta: Float32Array, threads: number): void;
  reluBackwardSync(y: Float32Array, dy: Float32Array, dx: Float32Array, threads: number): void;
  maxPoolForwardArgmaxSync(x: Float32Array, y: Float32Array, argmax: Int32Array, p: NativePoolGeomParams): void;
  maxPoolBackwardSync(dy: Float32Array, argmax: Int32Array, dx: Float32Array): void;
  globalAveragePoolBackwardSync(dy: Float32Array, planes: number, hw: number, dx: Float32Array): void;
  gemmBackwardSync(x: Float32Array, w: Float32Array, dy: Float32Array, m: number, k: number, nOut: number, dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null, threads: number): void;
  softmaxCrossEntropySync(logits: Float32Array, labels: Int32Array, m: number, classes: number, dlogits: Float32Array | null): number[];
}

export interface NativeConvBackwardParams {
  inputDims: number[];
  cOut: number; kh: number; kw: number; groups: number;
  strides: number[]; pads: number[]; dilations: number[]; outDims: number[];
  threads: number;
}
export interface NativePoolGeomParams {
  inputDims: number[]; kernel: number[]; strides: number[]; pads: number[]; dilations: number[]; outDims: number[];
}

const isF32 = (...a: (Arr | null)[]): boolean => a.every((v) => v === null || v instanceof Float32Array);

function convParams(g: ConvGeom, threads: number): NativeConvBackwardParams {
  return {
    inputDims: [g.n, g.cIn, g.h, g.w], cOut: g.cOut, kh: g.kh, kw: g.kw, groups: g.groups,
    strides: [g.sh, g.sw], pads: [...g.pads], dilations: [g.dh, g.dw], outDims: [g.outH, g.outW], threads,
  };
}

/** The native training kernels, or null when the addon is not built. */
export function nativeTrainKernels(): TrainKernels | null {
  let b: NativeBinding & Partial<NativeBackwardBinding>;
  try { b = nativeBinding() as NativeBinding & Partial<NativeBackwardBinding>; } catch { return null; }
  const threads = b.info().threads;
  const bw = b;
  return {
    name: 'native',
    conv2dForward(x, w, bias, g, y) {
      if (!isF32(x, w, bias, y)) return K.conv2dForward(x, w, bias, g, y);
      const packed = b.packConv2d(w as Float32Array, bias as Float32Array | null, g.cOut, g.cIn / g.groups, g.kh, g.kw, g.groups);
      b.conv2dSync(packed, x as Float32Array, null, y as Float32Array, { ...convParams(g, threads), relu: false });
    },
    conv2dBackward(x, w, dy, g, out) {
      if (!bw.conv2dBackwardSync || !isF32(x, w, dy, out.dx ?? null, out.dw ?? null, out.db ?? null)) return K.conv2dBackward(x, w, dy, g, out);
      bw.conv2dBackwardSync(x as Float32Array, w as Float32Array, dy as Float32Array, (out.dx ?? null) as Float32Array | null, (out.dw ?? null) as Float32Array | null, (out.db ?? null) as Float32Array | null, convParams(g, threads));
    },
    batchNormTrainForward(x, gamma, beta, eps, n, c, hw, y, sm, si) {
      if (!bw.batchNormTrainForwardSync || !isF32(x, gamma, beta, y)) return K.batchNormTrainForward(x, gamma, beta, eps, n, c, hw, y, sm, si);
      bw.batchNormTrainForwardSync(x as Float32Array, gamma as Float32Array, beta as Float32Array, eps, n, c, hw, y as Float32Array, sm, si, threads);
    },
    batchNormTrainBackward(x, gamma, dy, sm, si, n, c, hw, dx, dgamma, dbeta) {
      if (!bw.batchNormTrainBackwardSync || !isF32(x, gamma, dy, dx, dgamma, dbeta)) return K.batchNormTrainBackward(x, gamma, dy, sm, si, n, c, hw, dx, dgamma, dbeta);
      bw.batchNormTrainBackwardSync(x as Float32Array, gamma as Float32Array, dy as Float32Array, sm, si, n, c, hw, dx as Float32Array | null, dgamma as Float32Array, dbeta as Float32Array, threads);
    },
    reluForward(x, y) {
      if (!isF32(x, y)) return K.reluForward(x, y);
      b.addSync(x as Float32Array, ZEROS(x.length), y as Float32Array, true, threads);
    },
    reluBackward(y, dy, dx) {
      if (!bw.reluBackwardSync || !isF32(y, dy, dx)) return K.reluBackward(y, dy, dx);
      bw.reluBackwardSync(y as Float32Array, dy as Float32Array, dx as Float32Array, threads);
    },
    maxPoolForward(x, g, y, argmax) {
      if (!bw.maxPoolForwardArgmaxSync || !isF32(x, y)) return K.maxPoolForward(x, g, y, argmax);
      bw.maxPoolForwardArgmaxSync(x as Float32Array, y as Float32Array, argmax, {
        inputDims: [g.n, g.c, g.h, g.w], kernel: [g.kh, g.kw], strides: [g.sh, g.sw], pads: [...g.pads], dilations: [g.dh, g.dw], outDims: [g.outH, g.outW],
      });
    },
    maxPoolBackward(dy, argmax, dx) {
      if (!bw.maxPoolBackwardSync || !isF32(dy, dx)) return K.maxPoolBackward(dy, argmax, dx);
      bw.maxPoolBackwardSync(dy as Float32Array, argmax, dx as Float32Array);
    },
    globalAveragePoolForward(x, planes, hw, y) {
      if (!isF32(x, y)) return K.globalAveragePoolForward(x, planes, hw, y);
      b.globalAveragePoolSync(x as Float32Array, y as Float32Array, 1, planes, hw, threads);
    },
    globalAveragePoolBackward(dy, planes, hw, dx) {
      if (!bw.globalAveragePoolBackwardSync || !isF32(dy, dx)) return K.globalAveragePoolBackward(dy, planes, hw, dx);
      bw.globalAveragePoolBackwardSync(dy as Float32Array, planes, hw, dx as Float32Array);
    },
    gemmForward(x, w, bias, m, k, nOut, y) {
      if (!isF32(x, w, bias, y)) return K.gemmForward(x, w, bias, m, k, nOut, y);
      b.gemmSync(b.packGemm(w as Float32Array, bias as Float32Array | null, nOut, k), x as Float32Array, m, false, y as Float32Array, threads);
    },
    gemmBackward(x, w, dy, m, k, nOut, dx, dw, db) {
      if (!bw.gemmBackwardSync || !isF32(x, w, dy, dx, dw, db)) return K.gemmBackward(x, w, dy, m, k, nOut, dx, dw, db);
      bw.gemmBackwardSync(x as Float32Array, w as Float32Array, dy as Float32Array, m, k, nOut, dx as Float32Array | null, dw as Float32Array | null, db as Float32Array | null, threads);
    },
  };
}

let zeros = new Float32Array(0);
function ZEROS(n: number): Float32Array {
  if (zeros.length < n) zeros = new Float32Array(n);
  return zeros.subarray(0, n);
}

/** Whether the loaded addon has the native backward kernels. */
export function nativeBackwardAvailable(): boolean {
  try {
    return typeof (nativeBinding() as Partial<NativeBackwardBinding>).conv2dBackwardSync === 'function';
  } catch { return false; }
}

let nativeCache: TrainKernels | null | undefined;

/** 'auto' (default): native when the addon loads, else js. */
export function trainKernels(name: TrainBackendName | 'auto' = 'auto'): TrainKernels {
  if (name === 'js') return jsTrainKernels;
  if (nativeCache === undefined) nativeCache = nativeTrainKernels();
  if (nativeCache) return nativeCache;
  if (name === 'native') {
    nativeBinding(); // throws the BackendUnavailableError that says why
  }
  return jsTrainKernels;
}
