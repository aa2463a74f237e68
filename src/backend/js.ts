// The pure-JS backend: the op interface over src/kernels-js. Single-threaded
// (threads is ignored); the async forms compute synchronously and return a
// settled promise, so a throw becomes a rejection as with the native backend.
import * as k from '../kernels-js/index.js';
import type { JsConvWeights, JsGemmWeights } from '../kernels-js/index.js';
import type { KernelBackend, PackedWeights } from './types.js';

const asConv = (p: PackedWeights): JsConvWeights => {
  if (p.backend !== 'js') throw new TypeError(`js backend: expected weights packed by the 'js' backend but received weights packed by '${p.backend}'`);
  return p as JsConvWeights;
};
const asGemm = (p: PackedWeights): JsGemmWeights => {
  if (p.backend !== 'js') throw new TypeError(`js backend: expected weights packed by the 'js' backend but received weights packed by '${p.backend}'`);
  return p as JsGemmWeights;
};

function settle(f: () => void): Promise<void> {
  try {
    f();
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err);
  }
}

export const jsBackend: KernelBackend = {
  name: 'js',
  concatInPlace: true,
  elementwiseInPlace: true,
  packConv2d: (weight, bias, cOut, cInPerGroup, kh, kw, groups) => k.packConv2d(weight, bias, cOut, cInPerGroup, kh, kw, groups),
  conv2dSync: (packed, x, residual, y, p) => k.conv2d(asConv(packed), x, residual, y, p),
  conv2d: (packed, x, residual, y, p) => settle(() => k.conv2d(asConv(packed), x, residual, y, p)),
  packGemm: (weight, bias, nOut, kk) => k.packGemm(weight, bias, nOut, kk),
  gemmSync: (packed, x, m, relu, y) => k.gemm(asGemm(packed), x, m, relu, y),
  gemm: (packed, x, m, relu, y) => settle(() => k.gemm(asGemm(packed), x, m, relu, y)),
  maxPoolSync: (x, y, p) => k.maxPool(x, y, p),
  maxPool: (x, y, p) => settle(() => k.maxPool(x, y, p)),
  averagePoolSync: (x, y, p, cip) => k.averagePool(x, y, p, cip),
  averagePool: (x, y, p, cip) => settle(() => k.averagePool(x, y, p, cip)),
  globalAveragePoolSync: (x, y, n, c, hw, _threads, nhwc) => k.globalAveragePool(x, y, n, c, hw, nhwc),
  globalAveragePool: (x, y, n, c, hw, _threads, nhwc) => settle(() => k.globalAveragePool(x, y, n, c, hw, nhwc)),
  addSync: (a, b, y, relu) => k.add(a, b, y, relu),
  add: (a, b, y, relu) => settle(() => k.add(a, b, y, relu)),
};
